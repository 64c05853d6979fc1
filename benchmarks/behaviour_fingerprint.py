"""A fingerprint of what the models write and how a short training run goes.

Used to check that a change meant to keep behaviour (moving modules, splitting files)
really does: run it before and after, then compare the two JSON files.

    python benchmarks/behaviour_fingerprint.py -o before.json
    ... change the code ...
    python benchmarks/behaviour_fingerprint.py -o after.json --compare before.json

It only drives the command line (``generate``, ``train --jsonl``), so it works across
any internal reorganisation. Recorded:
- for each shipped style, sample melody and seed: the SHA-256 of the MIDI file that
  ``composer-gui generate`` writes (and its note count), with one and with four candidates
  (the critic's ranking), and one ``--bars`` regeneration;
- short seeded training runs on a few real files (chorale from scratch, folk fine-tuned
  from the shipped model, pop with its drum part, pop fine-tuned with its bar gates fitted):
  every JSON record the run prints
  (losses, validation metrics) and the SHA-256 of the weights and previews it writes.
Needs ``../shared/datasets`` for the training part (skipped with a message otherwise).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
MELODIES = sorted((ROOT / "composer_gui" / "assets" / "melodies").glob("*.mid"))
STYLES = ("chorale", "folk", "pop")


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "composer_gui", *args], env=env,
                          capture_output=True, text=True, cwd=ROOT)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _model_file_sha(path: Path, tmp: Path) -> str:
    """SHA-256 of what a model file holds, leaving out what differs between two runs of
    the same code: the run's own folder names, the wall-clock time in ``config.json``,
    and the order of the weights' metadata (safetensors writes it from a hash map)."""
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        digest = hashlib.sha256()
        with safe_open(str(path), "np") as f:
            meta = f.metadata() or {}
            digest.update(json.dumps(meta, sort_keys=True).replace(str(tmp), "<tmp>").encode())
            for key in sorted(f.keys()):
                tensor = f.get_tensor(key)
                digest.update(f"{key}{tensor.dtype}{tensor.shape}".encode())
                digest.update(tensor.tobytes())
        return digest.hexdigest()
    text = path.read_text(encoding="utf-8").replace(str(tmp), "<tmp>")
    if path.suffix == ".json":
        data = json.loads(text)
        for section in ("training", "drums_training"):
            if isinstance(data.get(section), dict):
                data[section].pop("elapsed_s", None)
        text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _note_count(path: Path) -> int:
    import mido

    return sum(1 for tr in mido.MidiFile(path).tracks for m in tr
               if m.type == "note_on" and m.velocity > 0)


def generation(env: dict, tmp: Path) -> dict:
    out = {}
    jobs = []
    for style in STYLES:
        for mel in MELODIES:
            for seed in (0, 7):
                jobs.append((style, mel, seed, []))
            jobs.append((style, mel, 3, ["--candidates", "4"]))
        jobs.append((style, MELODIES[0], 5, ["--bars", "3-4"]))
    for style, mel, seed, extra in jobs:
        key = f"{style}/{mel.stem}/seed{seed}" + ("/" + "_".join(extra) if extra else "")
        dst = tmp / (key.replace("/", "__") + ".mid")
        done = _run(["generate", str(mel), "--style", style, "--seed", str(seed),
                     "--device", "cpu", *extra, "-o", str(dst)], env)
        if done.returncode != 0:
            out[key] = {"rc": done.returncode, "stderr": done.stderr.strip()[-300:]}
        else:
            out[key] = {"sha256": _sha(dst), "notes": _note_count(dst),
                        "stdout": done.stdout.strip()}
        print(key, out[key].get("sha256", out[key])[:16] if "sha256" in out[key] else out[key],
              flush=True)
    return out


def _link_subset(dst: Path, src: Path, names: list[str]) -> None:
    """``dst`` holds links to the files of ``src``'s entries ``names`` (folders are made,
    not linked: the readers do not follow folder links)."""
    for n in names:
        if (src / n).is_dir():
            _link_subset(dst / n, src / n, sorted(p.name for p in (src / n).iterdir()))
        else:
            dst.mkdir(parents=True, exist_ok=True)
            os.symlink(src / n, dst / n)


def _records(stdout: str, tmp: Path) -> list[dict]:
    recs = []
    for line in stdout.splitlines():
        rec = json.loads(line.replace(str(tmp), "<tmp>"))
        for k in ("seconds", "path", "steps_per_second", "eta_s", "elapsed_s", "cache"):
            rec.pop(k, None)
        if rec.get("kind") == "start":
            rec.pop("report", None)
            rec.pop("device", None)
        if rec.get("kind") == "data":
            continue
        recs.append(rec)
    return recs


def training(env: dict, tmp: Path) -> dict:
    if not DATA.is_dir():
        print(f"no {DATA}: training part skipped", flush=True)
        return {}
    bach = sorted(p.name for p in (DATA / "bach_chorales").glob("*.mid"))[:24]
    notts = sorted(p.name for p in (DATA / "nottingham").glob("*.mid"))[:30]
    pops = [f"{i:03d}" for i in range(1, 13)]
    _link_subset(tmp / "bach", DATA / "bach_chorales", bach)
    _link_subset(tmp / "notts", DATA / "nottingham", notts)
    _link_subset(tmp / "pop", DATA / "pop909", pops + ["index.csv"])
    groove_dir = tmp / "groove"
    _link_subset(groove_dir, DATA / "groove", ["drummer1/session1"])
    rows = (DATA / "groove" / "info.csv").read_text().splitlines()
    (groove_dir / "info.csv").write_text("\n".join(
        [rows[0]] + [r for r in rows[1:] if ",drummer1/session1/" in r]) + "\n")
    runs = {
        "chorale_scratch": ["train", str(tmp / "bach"), "--style", "chorale"],
        "folk_finetune": ["train", str(tmp / "notts"), "--from", "folk"],
        "pop_with_drums": ["train", str(tmp / "pop"), "--style", "pop", "--drums",
                           str(groove_dir), "--drum-steps", "2"],
        # a fine-tune of a model with gated parts fits its bar gates at each validation
        "pop_finetune": ["train", str(tmp / "pop"), "--from", "pop"],
    }
    out = {}
    for name, args in runs.items():
        model_dir = tmp / f"model_{name}"
        done = _run([*args, "--steps", "4", "--batch-size", "4", "--seed", "11",
                     "--validate-every", "2", "--preview-every", "2", "--device", "cpu",
                     "--jsonl", "-o", str(model_dir)], env)
        if done.returncode != 0:
            out[name] = {"rc": done.returncode, "stderr": done.stderr.strip()[-600:]}
            print(name, out[name], flush=True)
            continue
        files = {str(p.relative_to(model_dir)): (_model_file_sha(p, tmp) if p.suffix != ".mid"
                                                   else _sha(p)) for p in sorted(model_dir.rglob("*"))
                 if p.is_file() and (p.suffix in (".safetensors", ".mid")
                                     or p.name == "config.json")}
        out[name] = {"records": _records(done.stdout, tmp), "files": files}
        print(name, len(out[name]["records"]), "records", len(files), "files", flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--compare", help="an earlier fingerprint: print every difference")
    ap.add_argument("--skip-training", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        env = dict(os.environ, XDG_CACHE_HOME=str(tmp / "cache"),
                   XDG_DATA_HOME=str(tmp / "data"), XDG_CONFIG_HOME=str(tmp / "config"),
                   OMP_NUM_THREADS="2", PYTHONHASHSEED="0")
        result = {"generation": generation(env, tmp)}
        if not args.skip_training:
            result["training"] = training(env, tmp)
    Path(args.output).write_text(json.dumps(result, indent=1, sort_keys=True))
    if not args.compare:
        return 0
    before = json.loads(Path(args.compare).read_text())
    diffs = 0
    for part in result:
        for key in sorted(set(before.get(part, {})) | set(result[part])):
            if before.get(part, {}).get(key) != result[part].get(key):
                diffs += 1
                print(f"DIFFERENT {part} {key}")
    print(f"{diffs} differences" if diffs else "identical")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
