"""Reward-function wrapper that writes GRPO Studio's native v1 rollout JSONL.

TRL calls each reward function once per generation batch as
``func(prompts=..., completions=..., **dataset_columns, trainer_state=...)`` and expects a list of
floats (or None). The wrapper passes the call through unchanged and, once every wrapped function
has scored the batch, writes one v1 record per completion.

Groups: TRL repeats each prompt ``num_generations`` times in a row across the *global* batch and
splits it across ranks in order, so a completion's group is its global position // num_generations
(global position = rank * local batch size + local index). Each rank appends to its own file,
``rollouts.rank<R>.jsonl``, so ranks never interleave partial lines.
"""
import functools
import json
import math
import os
import time

__all__ = ["RolloutRecorder", "record_rewards"]

IMAGE_KEYS = ("image_path", "image_paths", "images", "image")
BOX_KEYS = ("gt_boxes", "boxes", "bboxes")


def _finite(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _text(x):
    """Plain text of a prompt or completion: a string, a chat message, or a list of either."""
    if x is None:
        return None
    if isinstance(x, str):
        return x
    if isinstance(x, dict):
        content = x.get("content", x.get("text"))
        if isinstance(content, list):
            return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type", "text") == "text")
        return content if isinstance(content, str) else None
    if isinstance(x, (list, tuple)):
        parts = [_text(m) for m in x]
        return "\n".join(p for p in parts if p)
    return None


def _images(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        paths = [v for v in value if isinstance(v, str)]
        return paths or None
    return None  # PIL images and tensors have no path to show


def _boxes(value):
    out = []
    for b in value if isinstance(value, (list, tuple)) else []:
        if not isinstance(b, dict):
            continue
        box = b.get("box", b.get("bbox", b.get("bbox_2d")))
        label = b.get("label")
        if isinstance(label, str) and isinstance(box, (list, tuple)) and len(box) == 4:
            nums = [_finite(v) for v in box]
            if all(v is not None for v in nums):
                entry = {"label": label, "box": nums}
                if b.get("format") in ("xyxy", "xywh"):
                    entry["format"] = b["format"]
                out.append(entry)
    return out or None


def _column(kwargs, keys, i):
    for k in keys:
        col = kwargs.get(k)
        if isinstance(col, (list, tuple)) and i < len(col):
            return col[i]
    return None


def _sample_std(xs):
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0


class RolloutRecorder:
    """Collects one batch's rewards from every wrapped function, then writes its records."""

    def __init__(self, out_dir, num_generations, names, run=None, box_frame=None, rank=None):
        if num_generations < 1:
            raise ValueError("num_generations must be at least 1")
        self.out_dir = str(out_dir)
        self.num_generations = int(num_generations)
        self.names = list(names)
        self.run = run
        self.box_frame = box_frame
        self.rank = int(os.environ.get("RANK", "0")) if rank is None else int(rank)
        self.path = os.path.join(self.out_dir, "rollouts.rank%d.jsonl" % self.rank)
        self._calls = {n: 0 for n in self.names}
        self._pending = {}
        self._batches_in_step = {}
        os.makedirs(self.out_dir, exist_ok=True)

    def wrap(self, func, name):
        @functools.wraps(func)  # TRL names its reward columns after __name__
        def wrapped(*args, **kwargs):
            rewards = func(*args, **kwargs)
            prompts = kwargs.get("prompts", args[0] if len(args) > 0 else None)
            completions = kwargs.get("completions", args[1] if len(args) > 1 else None)
            try:
                self._collect(name, prompts, completions, kwargs, rewards)
            except Exception as e:  # recording must never break training
                print("grpo_studio: could not record rollouts: %r" % (e,))
            return rewards

        return wrapped

    def _collect(self, name, prompts, completions, kwargs, rewards):
        batch = self._calls[name]
        self._calls[name] += 1
        columns = {k: v for k, v in kwargs.items() if k not in ("prompts", "completions")}
        entry = self._pending.setdefault(batch, {"prompts": prompts, "completions": completions, "kwargs": columns, "rewards": {}})
        entry["rewards"][name] = list(rewards) if rewards is not None else []
        if len(entry["rewards"]) == len(self.names):
            del self._pending[batch]
            self.record(entry["prompts"], entry["completions"], entry["rewards"], batch_no=batch, **entry["kwargs"])

    def record(self, prompts, completions, rewards, step=None, batch_no=0, **columns):
        """Write one batch: ``rewards`` maps reward name -> per-completion values (None = not scored)."""
        completions = list(completions or [])
        n = len(completions)
        state = columns.get("trainer_state")
        if step is None:
            step = getattr(state, "global_step", None)
        if not isinstance(step, int):
            step = batch_no
        b = self._batches_in_step.get(step, 0)
        self._batches_in_step[step] = b + 1
        prompts = list(prompts or [None] * n)
        records = []
        for i in range(n):
            pos = self.rank * n + i
            rec = {"v": 1}
            if self.run:
                rec["run"] = self.run
            rec.update({"step": step, "group": "%d/%d.%d" % (step, b, pos // self.num_generations), "index": pos % self.num_generations})
            prompt = {}
            text = _text(prompts[i] if i < len(prompts) else None)
            if text is not None:
                prompt["text"] = text
            images = _images(_column(columns, IMAGE_KEYS, i))
            if images:
                prompt["images"] = images
            if prompt:
                rec["prompt"] = prompt
            rec["completion"] = _text(completions[i]) or ""
            solution = _column(columns, ("solution",), i)
            if isinstance(solution, str):
                rec["solution"] = solution
            answers = _column(columns, ("possible_answers",), i)
            if isinstance(answers, (list, tuple)) and all(isinstance(a, str) for a in answers):
                rec["possible_answers"] = list(answers)
            boxes = _boxes(_column(columns, BOX_KEYS, i))
            if boxes:
                rec["gt_boxes"] = boxes
                if self.box_frame:
                    rec["box_frame"] = self.box_frame
            size = _column(columns, ("image_size",), i)
            if isinstance(size, (list, tuple)) and len(size) == 2 and all(_finite(v) and _finite(v) > 0 for v in size):
                rec["image_size"] = [float(size[0]), float(size[1])]
            scores = {}
            for name, values in rewards.items():
                v = _finite(values[i]) if i < len(values) and values[i] is not None else None
                if v is not None:
                    scores[name] = v
            rec["rewards"] = scores
            if scores:
                rec["reward"] = sum(scores.values())
            rec["meta"] = {"rank": self.rank, "time": time.time(), "batch": b}
            records.append(rec)
        self._advantages(records)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write("".join(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in records))
        return records

    def _advantages(self, records):
        """(r - group mean) / (group sample std + 1e-4), for groups wholly on this rank and fully scored."""
        groups = {}
        for r in records:
            groups.setdefault(r["group"], []).append(r)
        for members in groups.values():
            if len(members) != self.num_generations or any("reward" not in r for r in members):
                continue
            rs = [r["reward"] for r in members]
            mean, std = sum(rs) / len(rs), _sample_std(rs)
            for r in members:
                r["advantage"] = (r["reward"] - mean) / (std + 1e-4)


def _is_model(f):
    """A torch module (a reward model): TRL treats those differently, so leave them unwrapped."""
    return any(c.__name__ == "Module" and c.__module__.startswith("torch") for c in type(f).__mro__)


def record_rewards(reward_funcs, out_dir, num_generations, run=None, box_frame=None):
    """Wrap TRL-style reward functions; returns the list to pass as ``GRPOTrainer(reward_funcs=...)``.

    Callables are wrapped (their results pass through unchanged); model ids (strings) and reward
    models are returned as they are and not recorded.
    """
    funcs = list(reward_funcs) if isinstance(reward_funcs, (list, tuple)) else [reward_funcs]
    names, seen = [], set()
    for f in funcs:
        if callable(f) and not isinstance(f, str) and not _is_model(f):
            base = getattr(f, "__name__", type(f).__name__)
            name, k = base, 2
            while name in seen:
                name, k = "%s_%d" % (base, k), k + 1
            seen.add(name)
            names.append(name)
        else:
            names.append(None)
    recorder = RolloutRecorder(out_dir, num_generations, [n for n in names if n], run=run, box_frame=box_frame)
    return [recorder.wrap(f, n) if n else f for f, n in zip(funcs, names)]
