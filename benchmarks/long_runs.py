"""Run the reproductions that outlast a session, one after another, carrying each run's
checkpoint through the repository so that a run started on one machine continues on the next.

Why: a session ends after three hours, and the next one may start on a fresh machine whose
``~/morl-runs`` is empty (an MO-Ant-v2 run 39 M steps into its 48 M was lost that way). So every
``--carry-every`` seconds (longer for checkpoints over 4 MB) the run's checkpoint and metrics are
copied into ``benchmarks/inflight/<run>/`` and committed (those paths only: whatever else is staged or edited
in the work tree stays as it is); started again on a fresh machine, this script continues each run
from its last carried checkpoint, losing at most one carry interval of training. A run keeps the
commit it started on (``inflight/<run>/run.json``, which names it, the versions and the command;
the code is cloned from this repository at that commit), so its record names the one commit that
trained it however many machines it crossed.

A finished run's record and front are copied into ``benchmarks/results/`` and the front drawn;
its pretrained model is exported (``export_pretrained.py``, best of the seeds whose run
directories are on this machine, unless a shipped model of a better run is there already) and
what its policies do across the front recorded (``gaits.py``, ``results/gaits-<run>.json``); the
carried checkpoint is removed; the reproduction table (docs/benchmarks.md) and the papers'
comparison (its table in docs/benchmarks.md and README.md, its figures in
``results/comparison/``) are regenerated from the records (``reproduction_summary.py``,
``comparison.py``); all of it is committed (a page with a person's uncommitted edits is rewritten
but left to that person to commit). What the result means, in words, is left to
a person, who reads it first.

Usage: python benchmarks/long_runs.py MO-Ant-v2:0 MO-Swimmer-v2:0:pgmorl [MO-Hopper-v2:0:pd-morl:steps=1000000 ...]
           [--queue FILE] [--carry-every 1800] [--pin COMMIT] [--no-commit]
The papers' comparison's queue is ``benchmarks/comparison_queue.txt``: ``python benchmarks/long_runs.py
--queue benchmarks/comparison_queue.txt --pin 436771f --carry-every 21600`` (finished jobs are skipped).
Runs go one at a time, and nothing else should train beside them: a second reproduction started
beside a Humanoid run on the 2-core machine ran its warm-up at ~220 env-steps/s (~9k alone) and cut
the Humanoid run from ~5.1k to ~1.4k env-steps/s for as long as both ran: each run's PPO update
takes all cores (``update_threads=0``), and threads waiting on each other across runs stall (the
pathology ``morl bench --jobs`` avoids by giving each parallel run its share of the cores).
Start it detached (``setsid nohup ... &``) at the start of every session until its queue is done;
``~/morl-runs/long_runs.log`` says what it did, ``--status`` where each job of the queue stands
(finished, in flight with its rate, pending; the env steps left per agent);
``pkill -USR1 -f long_runs.py`` carries at once
(before a session ends: training since the last carry is otherwise lost with the machine).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from morl.envs.fingerprint import same_definition

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
INFLIGHT = REPO / "benchmarks" / "inflight"
DEFAULT_RUNS = Path.home() / "morl-runs"  # reproduce.py's default parent of run directories
CARRY_MB = 4.0  # a bigger checkpoint is carried proportionally less often
CARRIED = ("checkpoint.pt", "config.json", "metrics.jsonl", "sharing.json")  # all a resume needs
TABLE_PAGE = "docs/benchmarks.md"  # the page holding the generated reproduction table
COMPARISON_PAGES = ("docs/benchmarks.md", "README.md")  # the pages holding the papers' comparison table


@dataclass(frozen=True)
class Job:
    """One long run: its problem, seed, agent and budget, and where its files live."""

    problem: str
    seed: int
    runs: Path  # where the run directories are (~/morl-runs)
    steps: int | None = None  # a reduced budget (None: the paper's)
    authors_code: bool = False  # Hyper-MORL with the authors' code's deviations (a comparison run)
    agent: str = "hyper-morl"
    pin: str | None = None  # the commit this job starts on, over --pin (a queue mixing two codes)

    @property
    def extra(self) -> list[str]:
        """reproduce.py's arguments beyond problem and seed."""
        agent = ["--agent", self.agent] if self.agent != "hyper-morl" else []
        steps = ["--steps", str(self.steps)] if self.steps else []
        variant = ["--authors-deviations"] if self.authors_code else []
        # the run directory always named: reproduce.py at an older commit put a reduced budget's run
        # in the paper budget's directory, which this script neither carries nor finds
        return agent + steps + variant + ["--out", str(self.run_dir)]

    @property
    def name(self) -> str:  # reproduce.py's name of the run and its record
        agent = "" if self.agent == "hyper-morl" else f"{self.agent}-"
        steps = f"-steps{self.steps}" if self.steps else ""
        return f"reproduce-{agent}{'authors-code-' if self.authors_code else ''}{self.problem}-seed{self.seed}{steps}"

    @property
    def run_dir(self) -> Path:  # reproduce.py's default run directory
        return self.runs / self.name

    @property
    def carry_dir(self) -> Path:
        return INFLIGHT / self.name

    def finished(self) -> bool:
        """A record of this run at its budget is committed and nothing is in flight."""
        record = RESULTS / f"{self.name}.json"
        if not record.is_file() or self.carry_dir.exists():
            return False
        data = json.loads(record.read_text())
        if not same_definition(data.get("fingerprint"), self.problem):
            return False  # a record of another definition (before morl 0.4.0) is history, not this run
        return bool(data["paper_budget"]) if self.steps is None else data["total_steps"] == self.steps


def parse_job(text: str) -> Job:
    """``PROBLEM:SEED[:AGENT][:steps=N][:authors-code][:pin=COMMIT]``: Hyper-MORL at the paper
    budget unless an agent (``pgmorl``, ``pd-morl``, ...) or a reduced budget is named, e.g.
    ``MO-Ant-v2:0``, ``MO-Swimmer-v2:0:pgmorl``, ``MO-Hopper-v2:0:pd-morl:steps=1000000``; ``pin=``
    starts this job on that commit instead of ``--pin``'s (a run once started keeps its own)."""
    problem, *rest = text.split(":")
    usage = (f"job {text!r}: expected PROBLEM:SEED[:AGENT][:steps=N][:authors-code][:pin=COMMIT], e.g. "
             "MO-Ant-v2:0 or MO-Hopper-v2:0:pd-morl:steps=1000000 (COMMIT: 7 to 40 hex digits)")  # fmt: skip
    if not problem or not rest:
        raise argparse.ArgumentTypeError(usage)
    try:
        seed = int(rest[0])
        agent, steps, authors_code, pin = "hyper-morl", None, False, None
        for token in rest[1:]:
            if token == "authors-code":
                authors_code = True
            elif token.startswith("pin="):
                pin = token.removeprefix("pin=")
                if not re.fullmatch(r"[0-9a-f]{7,40}", pin):
                    raise ValueError(token)
            elif token.startswith("steps="):
                steps = int(token.removeprefix("steps="))
                if steps <= 0:
                    raise ValueError(token)
            elif token and token.replace("-", "").isalnum():
                agent = token
            else:
                raise ValueError(token)
    except ValueError:
        raise argparse.ArgumentTypeError(usage) from None
    if authors_code and agent != "hyper-morl":
        raise argparse.ArgumentTypeError(f"job {text!r}: authors-code is a hyper-morl variant, not one of {agent}")
    return Job(problem, seed, DEFAULT_RUNS, steps, authors_code, agent, pin)


def read_queue(path: Path) -> list[Job]:
    """The jobs of a queue file, one per line in order; blank lines and ``#`` comments skipped."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [parse_job(line) for line in lines if line]


LOG: list[Path] = []  # the log file, set by main
CARRY_NOW: list[int] = []  # a SIGUSR1 asks for a carry at once (before a session's end)


def log(message: str) -> None:
    with open(LOG[0], "a", encoding="utf-8") as out:
        out.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")


def git(*args: str, check: bool = True) -> str:
    done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False)
    if check and done.returncode:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def commit(paths: list[Path], message: str, enabled: bool) -> None:
    """Commit ``paths`` only (``git commit --only``): the rest of the index and work tree is left
    alone. A busy index (a person committing at the same moment) is retried a few times."""
    if not enabled:
        return
    relative = [str(p.relative_to(REPO)) for p in paths]
    error = ""
    for attempt in range(5):
        added = subprocess.run(["git", "-C", str(REPO), "add", "-A", "--", *relative], capture_output=True, text=True)
        if added.returncode == 0:
            unchanged = subprocess.run(["git", "-C", str(REPO), "diff", "--cached", "--quiet", "HEAD", "--", *relative])
            if unchanged.returncode == 0:
                return
            done = subprocess.run(["git", "-C", str(REPO), "commit", "-q", "--only", "-m", message, "--", *relative],
                                  capture_output=True, text=True)  # fmt: skip
            if done.returncode == 0:
                log(f"committed {git('rev-parse', '--short', 'HEAD')}: {message.splitlines()[0]}")
                return
            error = done.stderr
        else:
            error = added.stderr
        time.sleep(5 + 10 * attempt)  # the index is locked while someone else commits
    log(f"commit failed, left for the next carry: {error.strip()}")


def pinned_code(job: Job, pin: str | None) -> tuple[str, Path]:
    """The commit the run trains on (pinned at its first start: the job's own pin, else ``pin``,
    else HEAD) and a clone of it."""
    pin_file = job.carry_dir / "run.json"
    if pin_file.is_file():
        commit_id = json.loads(pin_file.read_text())["git_commit"]
    else:
        from morl.versions import versions

        commit_id = git("rev-parse", job.pin or pin or "HEAD")
        job.carry_dir.mkdir(parents=True, exist_ok=True)
        command = " ".join(["python benchmarks/reproduce.py", job.problem, "--seed", str(job.seed), *job.extra])
        header = {"git_commit": commit_id, "versions": {**versions(), "git_commit": commit_id}, "command": command,
                  "note": "a run in flight: its latest checkpoint, carried by benchmarks/long_runs.py"}  # fmt: skip
        pin_file.write_text(json.dumps(header, indent=1) + "\n")
    code = job.runs / f"code-{commit_id[:12]}"
    if not (code / ".git").is_dir():
        subprocess.run(["git", "clone", "-q", str(REPO), str(code)], check=True)
        subprocess.run(["git", "-C", str(code), "checkout", "-q", commit_id], check=True)
    return commit_id, code


def bring_back(job: Job) -> None:
    """A fresh machine: the run directory starts from the carried checkpoint."""
    if (job.run_dir / "checkpoint.pt").is_file() or not (job.carry_dir / "checkpoint.pt").is_file():
        return
    job.run_dir.mkdir(parents=True, exist_ok=True)
    for name in CARRIED:
        if (job.carry_dir / name).is_file():
            shutil.copyfile(job.carry_dir / name, job.run_dir / name)
    log(f"{job.name}: run directory restored from the carried checkpoint")


def carry(job: Job, enabled: bool) -> None:
    """Copy the checkpoint (written atomically by the run: a copy is whole) and the metrics' whole
    lines into the carry directory, each replaced atomically, and commit them."""
    if not (job.run_dir / "checkpoint.pt").is_file():
        return
    for name in CARRIED:
        source, target = job.run_dir / name, job.carry_dir / name
        if not source.is_file():
            continue
        temporary = target.with_name(target.name + ".tmp")
        data = source.read_bytes()
        if name.endswith(".jsonl"):
            data = data[: data.rfind(b"\n") + 1]  # a row being appended is left out
        temporary.write_bytes(data)
        os.replace(temporary, target)
    rows = (job.carry_dir / "metrics.jsonl").read_text().splitlines()
    step = json.loads(rows[-1])["step"] if rows else 0
    hv = next((json.loads(r)["eval/hypervolume"] for r in reversed(rows) if '"eval/hypervolume"' in r), None)
    at = f", last periodic HV {hv:.4g}" if hv is not None else ""
    commit([job.carry_dir], f"Reproduction in flight: {job.name} carried at {step:,} env steps{at}", enabled)


def interval(job: Job, carry_every: float) -> float:
    """Seconds between carries: ``carry_every``, longer for a big checkpoint (Humanoid's is about
    8 MB with its optimiser state, and every carry stays in the repository's history): at most
    ~4 MB of checkpoint committed per carry interval (``carry_every``)."""
    checkpoint = job.run_dir / "checkpoint.pt"
    size_mb = checkpoint.stat().st_size / 2**20 if checkpoint.is_file() else 0.0
    return carry_every * max(1.0, size_mb / CARRY_MB)


def finish(job: Job, code: Path, enabled: bool, sharing: Sharing) -> None:
    """Copy the record and front, draw the front, export the pretrained model, drop the carry."""
    python = sys.executable
    # this repository's code draws and exports (the venv's morl may be installed from elsewhere:
    # an export through it wrote its model into that other checkout)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    paths = []
    for suffix in (".json", "-front.json"):
        shutil.copyfile(code / "benchmarks" / "results" / f"{job.name}{suffix}", RESULTS / f"{job.name}{suffix}")
        paths.append(RESULTS / f"{job.name}{suffix}")
    record = json.loads(paths[0].read_text())
    paths[0].write_text(json.dumps({**record, **sharing.record()}, indent=1) + "\n")
    png = RESULTS / f"{job.name}-front.png"
    subprocess.run([python, "-m", "morl", "evaluate", str(paths[1]), "--plot", str(png)], check=True,
                   cwd=REPO, env=env, capture_output=True)  # fmt: skip
    paths.append(png)
    record = json.loads(paths[0].read_text())
    # every seed with a recorded result, so the model's provenance compares them all; the best is
    # this run whenever the gate below passes (the shipped model is the best of the others)
    seeds = sorted(
        int(p.stem.rsplit("seed", 1)[1]) for p in RESULTS.glob(f"reproduce-{job.problem}-seed*.json")
        if p.stem.rsplit("seed", 1)[1].isdigit()
    )  # fmt: skip
    model = REPO / "morl" / "data" / "pretrained" / f"{job.problem}.npz"
    gaits: list[Path] = []
    # a comparison run (another agent, a reduced budget, the authors' code's deviations) is
    # recorded, not shipped: the zoo holds Hyper-MORL sets at the paper budget
    shippable = job.agent == "hyper-morl" and job.steps is None and not job.authors_code
    if shippable and _shipped_run_hv(model) < record["hypervolume"]:
        done = subprocess.run([python, "benchmarks/export_pretrained.py", job.problem, "--seeds", *map(str, seeds),
                               "--runs", str(job.runs)], cwd=REPO, env=env, capture_output=True, text=True)  # fmt: skip
        (job.runs / f"export-{job.name}.log").write_text(done.stdout + done.stderr)
        if done.returncode == 0:
            paths.append(model)
            gaits = _gaits(python, env, job)
            paths += gaits
        else:
            log(f"{job.name}: export failed (see export-{job.name}.log)")
    paths += _regenerate_table(python, env, enabled)
    shutil.rmtree(job.carry_dir)
    paths.append(job.carry_dir)
    message = (f"Reproduction finished: {job.name}, HV {record['hypervolume']:.4g} ({record['verdict']}), "
               f"{record['train_wall_clock_s'] / 3600:.1f} h of training\n\nRecord, front and plot; "
               f"{'pretrained model exported; ' if model in paths else ''}"
               f"{'its gaits recorded; ' if gaits else ''}"
               f"{'the reproduction table regenerated; ' if REPO / TABLE_PAGE in paths else ''}the carried "
               "checkpoint removed. Written by benchmarks/long_runs.py; the words on the result are "
               "not written yet.")  # fmt: skip
    commit(paths, message, enabled)


def _gaits(python: str, env: dict[str, str], job: Job) -> list[Path]:
    """What the newly shipped set's policies do across its front (``gaits.py``: returns, falls,
    mean forward velocity per preference), recorded as ``gaits-<run>.json``: the words on a
    result need it where a front misses a stretch, and a later session may no longer have the run.
    Seconds of CPU (11 episodes; 66 for three objectives). A failure is logged, not fatal."""
    out = RESULTS / f"gaits-{job.name}.json"
    done = subprocess.run([python, "benchmarks/gaits.py", job.problem, "--out", str(out.relative_to(REPO))],
                          cwd=REPO, env=env, capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0 or not out.is_file():
        log(f"{job.name}: gaits.py failed: {done.stderr.strip()[-300:]}")
        return []
    return [out]


def _regenerate_table(python: str, env: dict[str, str], enabled: bool) -> list[Path]:
    """The reproduction table (:data:`TABLE_PAGE`), its figure and summary, and the papers'
    comparison (its table on the same page and in :data:`COMPARISON_PAGES`' others,
    ``results/comparison/``), regenerated from the records (a test fails while any disagrees with
    them). A page is committed only when it has no edits of a person's in the work tree (``commit``
    takes whole files): otherwise its tables are rewritten there and left for that person to
    commit with their edits, and the log says so."""

    def edited(page: str) -> bool:
        diff = ["git", "-C", str(REPO), "diff", "--quiet", "HEAD", "--", page]
        return enabled and subprocess.run(diff).returncode != 0

    edited_before = {page: edited(page) for page in (TABLE_PAGE, *COMPARISON_PAGES)}  # before rewriting them
    figure, summary = RESULTS / "reproduction.png", RESULTS / "reproduction.json"
    command = [python, "benchmarks/reproduction_summary.py", "--readme", str(REPO / TABLE_PAGE), "--figure",
               str(figure), "--out", str(summary)]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode:
        log(f"reproduction table not regenerated: {done.stderr.strip().splitlines()[-1:]}")
        return []
    paths = [figure, summary]
    # the papers' comparison (all methods, every budget) from the same records
    compared = RESULTS / "comparison"
    command = [python, "benchmarks/comparison.py", "--out", str(compared)]
    for page in COMPARISON_PAGES:
        command += ["--page", str(REPO / page)]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode:  # the reproduction table is rewritten: commit it all the same
        log(f"comparison table not regenerated: {done.stderr.strip().splitlines()[-1:]}")
        pages = [TABLE_PAGE]
    else:
        paths.append(compared)
        pages = list(dict.fromkeys([TABLE_PAGE, *COMPARISON_PAGES]))
    for page in pages:
        if edited_before[page]:
            log(f"{page} has uncommitted edits: its generated tables were rewritten there, commit it with them")
        else:
            paths.append(REPO / page)
    return paths


def _shipped_run_hv(model: Path) -> float:
    """The hypervolume of the run a shipped model came from (-inf when none ships)."""
    if not model.is_file():
        return float("-inf")
    from morl.zoo import PretrainedParetoSet

    with warnings.catch_warnings():  # a model of another definition warns on load: it is replaced
        warnings.simplefilter("ignore")
        shipped = PretrainedParetoSet.load(model)
    if shipped.definition_mismatch() is not None:
        return float("-inf")  # trained on another definition: any run of today's replaces it
    return float(shipped.provenance["hypervolume_of_the_run"])


SHARED = 0.05  # others' CPU, in cores, above which a run's wall-clock is an upper bound


def _busy_cpu_s() -> float:
    """CPU seconds this machine has spent busy since boot, all processes (``/proc/stat``)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, _steal = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_s(root: int, seen: dict[tuple[int, int], float]) -> float:
    """CPU seconds of ``root`` and its descendants, each process's last reading kept in ``seen``
    under (pid, start time): a worker that exits keeps its last one (at most one poll interval of
    it is missed), and a pid the system reuses is another process."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    starts: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        after = stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces
        parents[int(entry.name)] = int(after[1])
        times[int(entry.name)] = (int(after[11]) + int(after[12])) / os.sysconf("SC_CLK_TCK")
        starts[int(entry.name)] = int(after[19])  # field 22 of stat: start time in clock ticks
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    for pid in tree & times.keys():
        seen[(pid, starts[pid])] = times[pid]
    return sum(seen.values())


@dataclass
class Sharing:
    """How much of the machine others used while a run trained: its wall-clock is the run's own
    cost only when nothing else ran (tests, development, a paused run's idle time are not)."""

    wall_s: float = 0.0
    others_cpu_s: float = 0.0

    @classmethod
    def carried(cls, job: Job) -> Sharing:
        """The totals so far: the run directory's (this machine's latest), else the carried ones."""
        for path in (job.run_dir / "sharing.json", job.carry_dir / "sharing.json"):
            if path.is_file():
                return cls(**json.loads(path.read_text()))
        return cls()

    def save(self, job: Job) -> None:
        """Into the run directory, outside the repository (a tracked file rewritten every few
        seconds would make every record made in the work tree meanwhile read ``+dirty``); each
        carry takes it along with the checkpoint."""
        path = job.run_dir / "sharing.json"
        path.parent.mkdir(parents=True, exist_ok=True)  # before reproduce.py has made it (imports take a while)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(dataclasses.asdict(self)) + "\n")
        os.replace(temporary, path)

    def add(self, wall_s: float, busy_s: float, run_s: float) -> None:
        self.wall_s += wall_s
        self.others_cpu_s += max(0.0, busy_s - run_s)

    def record(self) -> dict[str, object]:
        """The keys a finished run's record gets (read by the tables: an upper bound is shown in
        parentheses)."""
        cores = self.others_cpu_s / self.wall_s if self.wall_s else 0.0
        return {"machine_sharing": {**dataclasses.asdict(self), "others_cores_mean": round(cores, 3)},
                "wall_clock_upper_bound": cores > SHARED,
                "wall_clock_note": f"measured by long_runs.py: other processes used {cores:.2f} cores on average "
                                   "while this run trained (its wall-clock includes any SIGSTOP pauses)"}  # fmt: skip


def run(job: Job, args: argparse.Namespace) -> bool:
    """Train ``job`` to its end, carrying its checkpoint; True when it finished."""
    commit_id, code = pinned_code(job, args.pin)
    bring_back(job)
    commit([job.carry_dir / "run.json"], f"Reproduction in flight: {job.name} pinned at {commit_id[:12]}", args.commit)
    command = ["nice", "-n", "10", sys.executable, str(code / "benchmarks" / "reproduce.py"), job.problem,
               "--seed", str(job.seed), *job.extra]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(code)}
    log(f"{job.name}: training on {commit_id[:12]}")
    with open(job.runs / f"{job.name}.log", "ab") as out:
        process = subprocess.Popen(command, cwd=code, env=env, stdout=out, stderr=subprocess.STDOUT)
        sharing, seen = Sharing.carried(job), dict[tuple[int, int], float]()
        last = mark = time.monotonic()
        # this script's own CPU and its waited children's (git) are not someone else's either
        busy, own = _busy_cpu_s(), sum(os.times()[:4])

        def measure() -> None:  # the interval since the last reading, added to the carried totals
            nonlocal mark, busy, own
            try:
                now, busy_now = time.monotonic(), _busy_cpu_s()
                own_now = _tree_cpu_s(process.pid, seen) + sum(os.times()[:4])
                sharing.add(now - mark, busy_now - busy, own_now - own)
                mark, busy, own = now, busy_now, own_now
                sharing.save(job)
            except OSError as error:  # a measurement must never end the runs
                log(f"{job.name}: machine-sharing measurement failed: {error}")

        while process.poll() is None:
            time.sleep(10)
            measure()
            if time.monotonic() - last >= interval(job, args.carry_every) or CARRY_NOW:
                CARRY_NOW.clear()
                carry(job, args.commit)
                last = time.monotonic()
    if process.returncode != 0:
        log(f"{job.name}: reproduce.py exited {process.returncode} (see {job.name}.log)")
        carry(job, args.commit)
        return False
    finish(job, code, args.commit, sharing)
    log(f"{job.name}: finished")
    return True


def status_lines(jobs: list[Job]) -> list[str]:
    """Where each job of a queue stands, for whoever plans the next sessions: finished (its HV and
    hours), in flight (env steps done of its budget, the step its carried checkpoint holds: what a
    lost machine would restart from; wall-clock so far, and the rate they give),
    or pending (its budget, and the hours it would take at the rate of a finished run of the same
    agent, problem and budget, where one is); then the env steps left, per agent, and the hours of
    training they add up to where a rate is known (a lower bound: the jobs without a rate are
    counted, not estimated)."""
    from morl.bench.status import run_progress  # the bench's reader: a row being appended is skipped
    from morl.envs.catalog import get_problem

    def budget_of(job: Job) -> int:
        return job.steps or get_problem(job.problem).paper_budget

    records = {job.name: json.loads((RESULTS / f"{job.name}.json").read_text()) for job in jobs if job.finished()}
    # per agent, problem and budget (a shorter run plans its stages differently), the fastest
    # finished run's rate: the one that shared the machine least
    rates: dict[tuple[str, str, int], float] = {}
    for job in jobs:
        if job.name in records:
            key, record = (job.agent, job.problem, budget_of(job)), records[job.name]
            rates[key] = max(
                record["training_env_steps"] / max(record["train_wall_clock_s"], 1e-9), rates.get(key, 0.0)
            )
    lines, left = [], dict[str, int]()
    hours_ahead, unknown = 0.0, 0
    for job in jobs:
        budget = budget_of(job)
        if job.name in records:  # finished
            record = records[job.name]
            hours = record["train_wall_clock_s"] / 3600
            bound = " (upper bound)" if record.get("wall_clock_upper_bound") else ""
            lines.append(f"finished   {job.name}: HV {record['hypervolume']:.4g}, {hours:.2f} h{bound}")
            continue
        source = job.run_dir if (job.run_dir / "metrics.jsonl").is_file() else job.carry_dir
        done, _, recent = run_progress(source)
        if done or job.carry_dir.exists():
            wall = Sharing.carried(job).wall_s
            rate = f", {done / wall:,.0f} env-steps/s" if wall > 0 and done else ""
            # the whole run's rate counts start-ups and time shared with other work; the last
            # iterations' says what the rest of the training takes if the machine stays as it is now
            # (an iteration's rate leaves out the periodic evaluations and the final one: on top)
            hours = max(budget - done, 0) / recent / 3600 if recent else None
            ahead = (f"; ~{hours:.1f} h of training left at the last iterations' {recent:,.0f} env-steps/s"
                     if hours is not None else "")  # fmt: skip
            where = "carried"
            if source == job.run_dir:  # and what a lost machine would fall back to (0: nothing carried)
                carried = run_progress(job.carry_dir)[0]
                where = f"here; carried at {carried:,}" if carried else "here; never carried"
            lines.append(f"in flight  {job.name}: {done:,} of {budget:,} env steps ({where}), "
                         f"{wall / 3600:.2f} h so far{rate}{ahead}")  # fmt: skip
        else:
            known = rates.get((job.agent, job.problem, budget))
            hours = budget / known / 3600 if known else None
            guess = f" (~{hours:.1f} h at a finished run's {known:,.0f} env-steps/s)" if known else ""
            lines.append(f"pending    {job.name}: {budget:,} env steps{guess}")
        if hours is None:
            unknown += 1
        else:
            hours_ahead += hours
        left[job.agent] = left.get(job.agent, 0) + budget - done
    lines.append("env steps left: " + (", ".join(f"{agent} {steps:,}" for agent, steps in left.items()) or "none"))
    if left:
        lines.append(f"training left: ~{hours_ahead:.1f} h for the jobs with a known rate"
                     + (f", and {unknown} job(s) without one (no finished run of the same agent, problem and budget)"
                        if unknown else ""))  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("jobs", nargs="*", type=parse_job,
                        help="PROBLEM:SEED[:AGENT][:steps=N][:authors-code], run in this order")  # fmt: skip
    parser.add_argument("--queue", type=Path, help="a file of jobs, one per line (# comments), after the ones given")
    parser.add_argument("--carry-every", type=float, default=1800.0, help="seconds between carries (4 MB or less)")
    parser.add_argument("--pin", help="commit a run that has none pinned trains on (default HEAD)")
    parser.add_argument("--no-commit", dest="commit", action="store_false", help="carry without committing")
    parser.add_argument("--runs", type=Path, default=DEFAULT_RUNS, help="run directories' parent")
    parser.add_argument("--steps", type=int, help="every job at this budget unless it names its own (steps=N)")
    parser.add_argument("--status", action="store_true", help="say where each job stands, and train nothing")
    args = parser.parse_args()
    if args.carry_every <= 0:
        parser.error(f"--carry-every must be positive, got {args.carry_every}")
    if args.queue is not None:
        try:
            args.jobs += read_queue(args.queue)
        except (OSError, argparse.ArgumentTypeError) as error:
            parser.error(f"--queue {str(args.queue)!r}: {error}")
    if not args.jobs:
        parser.error("no jobs: give PROBLEM:SEED[:AGENT]... or --queue FILE")
    if args.status:
        jobs = [dataclasses.replace(j, runs=args.runs, steps=j.steps or args.steps) for j in args.jobs]
        print("\n".join(status_lines(jobs)))
        return
    args.runs.mkdir(parents=True, exist_ok=True)
    LOG.append(args.runs / "long_runs.log")
    signal.signal(signal.SIGUSR1, lambda number, frame: CARRY_NOW.append(number))
    for parsed in args.jobs:
        job = dataclasses.replace(parsed, runs=args.runs, steps=parsed.steps or args.steps)
        if job.finished():
            log(f"{job.name}: already finished")
            continue
        if not run(job, args):
            sys.exit(1)
    log("queue done")


if __name__ == "__main__":
    main()
