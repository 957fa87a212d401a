"""The README's screenshot of ``morl explore``: the page of the set shipped for MO-HalfCheetah-v2,
opened in headless Chromium (Debian's ``chromium`` and ``chromium-driver``), a preference chosen
on the slider and the robot two seconds into its episode.

Writes ``docs/img/explorer.png``: ``python docs/make_explorer_screenshot.py``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from morl.explore import write_explorer

OUT = Path(__file__).parent / "img" / "explorer.png"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        page = write_explorer("pretrained:MO-HalfCheetah-v2", Path(folder) / "explorer.html")
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1140,940"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            driver.get(page.as_uri())
            time.sleep(0.5)
            slider = driver.find_element(By.ID, "pref-slider")
            for _ in range(4):  # from the equal preference to 0.7 on forward speed
                slider.send_keys(Keys.ARROW_RIGHT)
            time.sleep(2.0)
            driver.save_screenshot(str(OUT))
        finally:
            driver.quit()
    print(f"written {OUT}")


if __name__ == "__main__":
    main()
