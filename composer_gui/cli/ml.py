"""``generate``, ``train``, ``models``, ``evaluate``, ``fit-lines`` and ``train-conductor``:
the model commands.

Registration imports nothing heavy; torch is loaded inside the command functions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from composer_gui.cli import CliError
from composer_gui.ml.train.options import FINETUNE_CONDUCTOR_MINUTES, TRAIN_DEFAULTS  # torch-free

DEVICES = ("auto", "cpu", "cuda", "mps")


def _bars(text: str) -> tuple[int, int]:
    try:
        if "-" in text:
            a, b = (int(x) for x in text.split("-", 1))
        else:
            a = b = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bars must look like A-B (1-based), got {text!r}") from None
    if a < 1 or b < a:
        raise argparse.ArgumentTypeError(f"bars {text!r}: need 1 <= A <= B")
    return a, b


def register(subparsers) -> None:
    p = subparsers.add_parser("generate", help="write accompaniment under a melody")
    p.add_argument("input", metavar="IN.mid")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--style", help="style name (chorale, ...)")
    src.add_argument("--model", help="model name or folder")
    p.add_argument("--melody-track", type=int, metavar="N",
                   help="0-based track index as in `info --json` (default: role melody, else the first)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--candidates", type=int, default=1, metavar="K",
                   help="sample K in one batch and keep the one the conductor scores best")
    p.add_argument("--guidance", choices=("off", "light", "strong"), default=None,
                   help="how hard the conductor steers sampling, window by window "
                        "(default light; off: the plain network)")
    p.add_argument("--bars", type=_bars, metavar="A-B", help="regenerate only these bars (1-based)")
    p.add_argument("--tracks", metavar="NAMES", help="regenerate only these roles (comma-separated)")
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("-o", "--output", required=True, metavar="OUT.mid")
    p.set_defaults(func=cmd_generate)

    p = subparsers.add_parser("train", help="train or fine-tune a style model")
    p.add_argument("data_dir", metavar="DATA_DIR", nargs="?",
                   help="folder of MIDI files (with --resume: the run's own by default)")
    p.add_argument("--style", default=None, help="role template (chorale, ...)")
    p.add_argument("--from", dest="base", metavar="MODEL", help="fine-tune this model")
    p.add_argument("--steps", type=int, help="generator updates (in total, counting a resumed run)")
    p.add_argument("--minutes", type=float,
                   help="stop after this many minutes (pauses not counted)")
    p.add_argument("--batch-size", type=int,
                   help=f"windows per step (default {TRAIN_DEFAULTS['batch_size']}; "
                        "per process under torchrun)")
    p.add_argument("--lr", type=float, help=f"learning rate (default {TRAIN_DEFAULTS['lr']})")
    p.add_argument("--critic-steps", type=int,
                   help="critic updates per generator update "
                        f"(default {TRAIN_DEFAULTS['critic_steps']})")
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue the run saved in MODEL_DIR")
    p.add_argument("--drums", metavar="GROOVE_DIR",
                   help="styles with drums (pop): also train the drum part on this Groove "
                        "folder, into MODEL_DIR/drums, after the other parts")
    p.add_argument("--drum-steps", type=int, metavar="N", help="drum generator updates")
    p.add_argument("--drum-minutes", type=float, metavar="M",
                   help="stop the drum training after this many minutes")
    p.add_argument("--conductor-minutes", type=float, metavar="M",
                   help="at the end, train the model's own conductor (guides and ranks "
                        "generation) for up to M minutes; 0: none (default "
                        f"{FINETUNE_CONDUCTOR_MINUTES:g} for a fine-tune with --from, else 0)")
    p.add_argument("-o", "--output", required=True, metavar="MODEL_DIR")
    _add_finetune_options(p)
    p.set_defaults(func=cmd_train)

    p = subparsers.add_parser("models", help="list shipped and user models")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)

    p = subparsers.add_parser("evaluate", help="metrics of a model on a folder's validation songs")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--drums", metavar="GROOVE_DIR",
                   help="models with a drum part (pop): also judge the drums against this "
                        "Groove folder's validation split")
    p.add_argument("--max-songs", type=int, metavar="N", help="only the first N validation songs")
    p.add_argument("--json", action="store_true")
    p.add_argument("--by-meter", action="store_true",
                   help="also the tables per meter (songs grouped by their main meter)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="evaluate with a decoding setting of config.json changed, the model "
                        "untouched (e.g. --set line_prior=0 --set voice_leading=1: without "
                        "the rules); repeatable")
    p.add_argument("--guidance", choices=("off", "light", "strong"), default=None,
                   help="the conductor's guidance while generating (default light, as generate)")
    p.add_argument("--seed", type=int, default=0,
                   help="generation seed (the measures over several seeds say how much is luck)")
    p.set_defaults(func=cmd_evaluate)

    p = subparsers.add_parser(
        "train-conductor", help="train a model's conductor (ranks and guides generation)",
        description="Train the conductor of a model: a critic that learns, with the generator "
                    "frozen, to tell the real accompaniment of DATA_DIR's training songs from "
                    "what the model writes under the same melodies; judged on the validation "
                    "songs, whose real windows are the reference of the 'how real' label.")
    p.add_argument("model", metavar="MODEL", help="a model name or folder (written in place)")
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--songs", type=int, default=120, metavar="N",
                   help="training songs to generate under (default 120)")
    p.add_argument("--minutes", type=float, default=10.0, metavar="M",
                   help="network training time after generating (default 10; 0: keep the "
                        "network of the conductor the model has, fit its ear and reference "
                        "anew)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_train_conductor)

    p = subparsers.add_parser(
        "fit-lines", help="fit the decoder's line model of one-voice parts to training songs",
        description="Fit how a model's one-voice parts step, sit and sound against the melody "
                    "(the decoder's line model) to the training songs of DATA_DIR (never its "
                    "validation songs), and save it in the model's config.json.")
    p.add_argument("model", metavar="MODEL", help="a model name or folder (written in place)")
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--songs", type=int, default=40, metavar="N",
                   help="training songs to decode each round (default 40)")
    p.add_argument("--rounds", type=int, default=5, metavar="N", help="fitting rounds (default 5)")
    p.add_argument("--onsets-only", action="store_true",
                   help="only the onset rule, for one-voice and block-chord parts: no note "
                        "starts at a position in the beat where the data starts (almost) none")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_fit_lines)


# ----- generate ----------------------------------------------------------------------------
def cmd_generate(args) -> int:
    from composer_gui.ml.generate.sample import GenerateRequest, generate_file

    if args.candidates < 1:
        raise CliError("--candidates must be at least 1")
    tracks = [t.strip() for t in args.tracks.split(",") if t.strip()] if args.tracks else None
    request = GenerateRequest(
        input=Path(args.input), output=Path(args.output), style=args.style, model=args.model,
        melody_track=args.melody_track, seed=args.seed, candidates=args.candidates,
        bars=args.bars, tracks=tracks, device=args.device, guidance=args.guidance,
    )
    result = generate_file(request, warn=lambda m: print(f"composer-gui: warning: {m}", file=sys.stderr))
    if args.candidates > 1:
        for i, score in enumerate(result.scores):
            mark = " *" if i == result.chosen else ""
            real = result.how_real[i] if i < len(result.how_real) else None
            label = f" how real {real:.0f}%" if real is not None else ""
            print(f"candidate {i} score {score:.4f}{label}{mark}")
    return 0


# ----- train -------------------------------------------------------------------------------
def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def cmd_train(args) -> int:
    if args.jsonl and not hasattr(args, "emit"):
        return _train_jsonl(args)
    from composer_gui.ml.train.loop import train
    from composer_gui.ml.train.options import TrainOptions

    _fill_resumed(args)
    if not args.resume and not args.style and not args.base:
        raise CliError("train: give --style NAME (or --from MODEL, or --resume)")
    if args.steps is None and args.minutes is None:
        raise CliError("train: give --steps N or --minutes M")
    overrides = _drum_overrides(args)
    opts = TrainOptions(
        data_dir=Path(args.data_dir), out_dir=Path(args.output), style=args.style,
        base=args.base, steps=args.steps, minutes=args.minutes, batch_size=args.batch_size,
        lr=args.lr, critic_steps=args.critic_steps, device=args.device, seed=args.seed,
        resume=args.resume, config_overrides=overrides, conductor_minutes=args.conductor_minutes,
    )
    _add_finetune_settings(opts, args)
    from composer_gui.ml.device import configure_threads
    from composer_gui.ml.train.control import terminate_as_interrupt

    configure_threads()
    with terminate_as_interrupt():  # SIGTERM (torchrun, kill) saves first, as Ctrl+C does
        _print_records(_records(args, train(opts)))
    if args.drums:
        from composer_gui.ml.drums.training import DrumTrainOptions, train_drums
        from composer_gui.ml.model.config import ModelConfig

        config = ModelConfig.load(Path(args.output))
        print(f"training the drum part on {args.drums} into {Path(args.output) / config.drums}",
              flush=True)
        drum_opts = DrumTrainOptions(
            data_dir=Path(args.drums), out_dir=Path(args.output) / config.drums,
            steps=args.drum_steps, minutes=args.drum_minutes, seed=args.seed,
            resume=args.resume and (Path(args.output) / config.drums).is_dir())
        _print_records(_records(args, train_drums(drum_opts)))
    from composer_gui.ml.model.card import write_card_if_missing

    write_card_if_missing(Path(args.output))
    return 0


def _drum_overrides(args) -> dict:
    """Config changes for the drum part: a style with drums trained without ``--drums``
    writes no drum part (its config then names no drum model)."""
    if args.resume or args.base:
        if args.drums and args.drum_steps is None and args.drum_minutes is None:
            raise CliError("train: --drums needs --drum-steps N or --drum-minutes M")
        return {}
    from composer_gui.ml.model.config import style_config

    has_drums = style_config(args.style).has_drums
    if args.drums:
        if not has_drums:
            raise CliError(f"train: style {args.style!r} has no drum part (--drums is for pop)")
        if args.drum_steps is None and args.drum_minutes is None:
            raise CliError("train: --drums needs --drum-steps N or --drum-minutes M")
        if not Path(args.drums).is_dir():
            raise CliError(f"train: --drums {args.drums}: not a folder")
        return {}
    if args.drum_steps is not None or args.drum_minutes is not None:
        raise CliError("train: --drum-steps/--drum-minutes need --drums GROOVE_DIR")
    return {"drums": None, "drum_role": None} if has_drums else {}


def _print_records(records) -> None:
    """Progress of a training (parts or drums) on the terminal."""
    tty = sys.stderr.isatty()
    for rec in records:
        kind = rec["kind"]
        if kind == "data":
            line = f"reading MIDI files {rec['done']}/{rec['total']}"
            print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)
        elif kind == "start":
            if tty:
                print(file=sys.stderr)
            rep = rec.get("report")
            if rep is not None and hasattr(rep, "grid_coverage"):
                cov = rep.grid_coverage()
                print(f"data: {rec['train_songs']} training songs, {rec['validation_songs']} "
                      f"validation songs, {len(rep.skipped)} skipped, {rep.from_cache} from "
                      "cache; onsets on the grid: "
                      + ", ".join(f"{k}/beat {v:.1%}" for k, v in cov.items()))
                for path, reason in rep.skipped[:20]:
                    print(f"  skipped {path}: {reason}")
                if len(rep.skipped) > 20:
                    print(f"  ... and {len(rep.skipped) - 20} more skipped")
            else:
                print("data: " + ", ".join(f"{k} {v}" for k, v in rec.items()
                                           if k not in ("kind", "step", "steps", "device",
                                                        "parameters", "report")))
            print(f"training on {rec.get('device', '?')} from step {rec.get('step', 0)}"
                  + (f" to {rec['steps']}" if rec.get("steps") else "")
                  + (f", {rec['parameters']:,} parameters" if "parameters" in rec else ""),
                  flush=True)
        elif kind == "step":
            print(f"step {rec['step']} " + " ".join(
                f"{k} {_fmt(v)}" for k, v in rec.items() if k not in ("kind", "step", "seconds"))
                + f" ({rec.get('seconds', '?')} s)", flush=True)
        elif kind == "validation":
            print(f"validation step {rec['step']}: " + " ".join(
                f"{k} {_fmt(v)}" for k, v in rec.items()
                if k not in ("kind", "step") and isinstance(v, (int, float, str))), flush=True)
        elif kind == "checkpoint":
            print(f"saved step {rec['step']} to {rec['path']} ({rec.get('reason', '')})", flush=True)
        elif kind == "conductor":
            print("conductor: " + (rec.get("message") or (
                f"training on {rec.get('train_songs')} songs, judged on "
                f"{rec.get('validation_songs')} validation songs, up to {rec.get('minutes')} "
                f"min, from the {rec.get('from')}")), flush=True)
        elif kind == "done":
            print(f"done: {rec['step']} steps in {rec['seconds']} s ({rec.get('reason', '')})")


# ----- train: the fine-tune options (docs/finetune_protocol.md) --------------------------
def _add_finetune_options(p) -> None:
    """The options the window's fine-tune uses."""
    p.add_argument("--mapping", metavar="MAP.json",
                   help="files to use and their melody / role tracks (written by the window)")
    p.add_argument("--preview-every", type=int, metavar="S",
                   help="every S steps write MODEL_DIR/previews/step_NNNNNN.mid "
                        "(and base.mid once)")
    p.add_argument("--validate-every", type=int, metavar="V",
                   help="validation and metrics every V steps "
                        f"(default {TRAIN_DEFAULTS['validate_every']})")
    p.add_argument("--save-every", type=float, default=60.0, metavar="SECONDS",
                   help="write a resumable checkpoint this often (default 60)")
    p.add_argument("--jsonl", action="store_true",
                   help="progress as JSON lines on stdout (nothing else there); messages on stderr")
    p.add_argument("--control-stdin", action="store_true",
                   help="read pause / resume / stop lines from stdin; end of input = stop")


def _fill_resumed(args) -> None:
    """Complete the arguments: a resumed run takes what is not given from its saved
    settings (data folder, mapping, target steps, batch size ...), then the defaults."""
    saved = {}
    if args.resume:
        from composer_gui.ml.train.options import resume_settings

        saved = resume_settings(Path(args.output))
        args.seed = int(saved.get("seed", args.seed))
    for name, key in (("data_dir", "data"), ("mapping", "mapping"), ("steps", "target_steps"),
                      ("minutes", "minutes"), ("batch_size", "batch_size"), ("lr", "lr"),
                      ("critic_steps", "critic_steps"), ("preview_every", "preview_every"),
                      ("validate_every", "validate_every")):
        if getattr(args, name) is None:
            setattr(args, name, saved.get(key, TRAIN_DEFAULTS.get(name)))
    if args.conductor_minutes is None:
        args.conductor_minutes = float(saved.get("conductor_minutes",
                                                 FINETUNE_CONDUCTOR_MINUTES if args.base else 0))
    if args.conductor_minutes < 0:
        raise CliError("train: --conductor-minutes must be 0 or more")
    if not args.data_dir:
        raise CliError("train: give DATA_DIR (a folder of MIDI files)")
    for name in ("steps", "batch_size", "critic_steps", "preview_every", "validate_every"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise CliError(f"train: --{name.replace('_', '-')} must be at least 1")


def _add_finetune_settings(opts, args) -> None:
    """The fine-tune's options on ``opts``, and the stdin control started when asked
    (rank 0 only under torchrun)."""
    opts.mapping = Path(args.mapping) if args.mapping else None
    opts.preview_every = args.preview_every
    opts.validate_every = args.validate_every
    opts.save_every_s = args.save_every
    if args.control_stdin and _is_main_rank():
        from composer_gui.ml.train.control import TrainControl, read_commands

        opts.control = TrainControl()
        read_commands(opts.control)


def _is_main_rank() -> bool:
    import os

    return os.environ.get("RANK", "0") in ("", "0")


def _records(args, records):
    """The records to print; with ``--jsonl`` each goes to stdout as one JSON line
    instead. Under torchrun only rank 0 reports."""
    main = _is_main_rank()
    for rec in records:
        if not main:
            continue
        if args.jsonl:
            args.emit(rec)
        elif rec["kind"] == "validation":  # the per-part tables are for the window's plots
            yield {k: v for k, v in rec.items() if not isinstance(v, dict)}
        else:
            yield rec


def _json_safe(value):
    """Records as strict JSON: reports as dicts, NaN as null, numpy scalars as numbers."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "to_dict"):
        return _json_safe(value.to_dict())
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def _train_jsonl(args) -> int:
    """``train --jsonl``: one JSON object per line on stdout and nothing else (anything
    else printed goes to stderr); an error is also sent as an ``error`` record."""
    from composer_gui.core.errors import UserError
    from composer_gui.ml.errors import DiskFull, OutOfMemory

    out = sys.stdout
    sys.stdout = sys.stderr  # stray prints must not break the stream
    last = {"step": 0}

    def emit(record: dict) -> None:
        last["step"] = record.get("step", last["step"])
        out.write(json.dumps(_json_safe(record), allow_nan=False) + "\n")
        out.flush()

    args.emit = emit
    try:
        return cmd_train(args)
    except Exception as exc:
        if _is_main_rank():
            error = {"kind": "error", "step": last["step"], "message": str(exc),
                     "oom": isinstance(exc, OutOfMemory), "disk_full": isinstance(exc, DiskFull)}
            if isinstance(exc, OutOfMemory):
                error["suggest_batch_size"] = exc.suggest_batch_size
            if not isinstance(exc, (UserError, CliError)):
                error["message"] = f"internal error: {type(exc).__name__}: {exc}"
            emit(error)
        raise
    finally:
        sys.stdout = out


# ----- models / evaluate ---------------------------------------------------------------------
def cmd_models(args) -> int:
    """List the models (user models too); an installation without its shipped models is
    an error naming the folder looked in, after the list."""
    from composer_gui.ml.model.registry import list_models, shipped_models_missing

    entries = list_models()
    if args.json:
        print(json.dumps([e.to_dict() for e in entries], indent=2))
    elif not entries:
        print("no models found")
    for e in [] if args.json else entries:
        if e.error:
            print(f"{e.name}\t({e.source})\tUNUSABLE: {e.error}\t{e.path}")
        else:
            print(f"{e.name}\tstyle {e.style}\troles {', '.join(e.roles)}\t"
                  f"steps {e.steps if e.steps is not None else '?'}\t{e.source}\t{e.path}")
    missing = shipped_models_missing()
    if missing:
        sys.stdout.flush()
        raise CliError(missing)
    return 0


def cmd_evaluate(args) -> int:
    from composer_gui.ml.evaluate.model_eval import evaluate_model, format_table

    overrides = {}
    for item in args.overrides:
        key, sep, value = item.partition("=")
        try:
            overrides[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise CliError(f"evaluate: --set {item!r}: need KEY=NUMBER")
    result = evaluate_model(args.model, Path(args.data_dir), max_songs=args.max_songs,
                            by_meter=args.by_meter, overrides=overrides or None,
                            guidance=args.guidance, seed=args.seed)
    drums = None
    if args.drums:
        from composer_gui.ml.drums.evaluate import evaluate_drums, format_drum_table
        from composer_gui.ml.model.config import ModelConfig
        from composer_gui.ml.model.registry import resolve_model

        folder = resolve_model(args.model)
        config = ModelConfig.load(folder)
        if not config.has_drums:
            raise CliError(f"evaluate: {folder} has no drum part (--drums is for pop models)")
        drums = evaluate_drums(folder / config.drums, Path(args.drums))
        result["drums"] = drums
    if args.json:
        print(json.dumps(result, indent=2, default=float))
    else:
        print(format_table(result))
        if drums is not None:
            print(format_drum_table(drums))
    return 0


def cmd_fit_lines(args) -> int:
    from composer_gui.ml.generate.fit_lines import fit_model_lines
    from composer_gui.ml.model.registry import resolve_model

    if args.songs < 1 or args.rounds < 1:
        raise CliError("fit-lines: --songs and --rounds must be at least 1")
    folder = resolve_model(args.model)
    report = fit_model_lines(folder, Path(args.data_dir), args.songs, args.rounds, args.seed,
                             progress=lambda line: print(line, file=sys.stderr, flush=True),
                             onsets_only=args.onsets_only)
    if not report:
        raise CliError(f"fit-lines: {folder} has no one-voice parts to fit")
    print(json.dumps(report, indent=2))
    print(f"saved {folder / 'config.json'}")
    return 0


def cmd_train_conductor(args) -> int:
    from composer_gui.ml.device import configure_threads
    from composer_gui.ml.model.registry import resolve_model
    from composer_gui.ml.train.conductor import train_conductor

    if args.songs < 2 or args.minutes < 0:
        raise CliError("train-conductor: --songs must be at least 2 and --minutes 0 or more")
    configure_threads(default=None)
    folder = resolve_model(args.model)
    info = train_conductor(folder, Path(args.data_dir), args.songs, args.minutes, args.seed,
                           progress=lambda line: print(line, file=sys.stderr, flush=True))
    before = info.get("critic_validation_auc", info.get("start_validation_auc"))
    ear = info.get("ear") or {}
    print(f"conductor of {folder}: network validation AUC {info['validation_auc']:.3f} "
          f"(at its start: {before:.3f}), {info['steps']} steps"
          + (f"; ear: validation bars AUC {ear['validation_bar_auc']:.3f}" if ear else "")
          + f"; score {info['weights']['network']:g} x network + {info['weights']['ear']:g} x ear"
          f", validation AUC {info['judge_validation_auc']:.3f}")
    return 0
