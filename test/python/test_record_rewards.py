"""python3 -m unittest discover -s test/python  (with PYTHONPATH=python)."""
import json
import math
import os
import sys
import tempfile
import types
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

from grpo_studio import record_rewards  # noqa: E402


def accuracy_reward(prompts, completions, solution, **kwargs):
    return [1.0 if c[0]["content"].endswith(s[-10:]) else 0.0 for c, s in zip(completions, solution)]


def format_reward(completions, **kwargs):
    return [0.5 if c[0]["content"].startswith("<think>") else 0.0 for c in completions]


def judge_reward(completions, **kwargs):
    # None = not applicable (TRL skips it); nan must not reach the JSON file
    return [None, float("nan"), 0.25, 1.0]


def read(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


class RecordRewardsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.out = self.tmp.name
        os.environ.pop("RANK", None)

    def tearDown(self):
        self.tmp.cleanup()

    def batch(self):
        user = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Which is left? A. car B. dog"}]}]
        good = "<think>[27,346,80,376 dog] is left</think> <answer>B</answer>"
        return dict(
            prompts=[user, user, user, user],
            completions=[[{"role": "assistant", "content": good}], [{"role": "assistant", "content": "B"}],
                         [{"role": "assistant", "content": good}], [{"role": "assistant", "content": "<think>x</think><answer>A</answer>"}]],
            solution=["<think>..</think> <answer>B</answer>"] * 4,
            image_path=["images/0001.jpg"] * 2 + ["images/0002.jpg"] * 2,
            gt_boxes=[[{"label": "dog", "box": [27, 346, 80, 376]}]] * 4,
            trainer_state=types.SimpleNamespace(global_step=5),
        )

    def test_wrapped_functions_pass_results_through_and_keep_names(self):
        funcs = record_rewards([accuracy_reward, format_reward, "some/reward-model"], self.out, num_generations=2)
        self.assertEqual([f.__name__ for f in funcs[:2]], ["accuracy_reward", "format_reward"])
        self.assertEqual(funcs[2], "some/reward-model")
        b = self.batch()
        self.assertEqual(funcs[0](**b), [1.0, 0.0, 1.0, 0.0])
        self.assertFalse(os.path.exists(os.path.join(self.out, "rollouts.rank0.jsonl")), "written only once every function scored")
        self.assertEqual(funcs[1](**b), [0.5, 0.0, 0.5, 0.5])
        recs = read(os.path.join(self.out, "rollouts.rank0.jsonl"))
        self.assertEqual(len(recs), 4)
        self.assertEqual([r["group"] for r in recs], ["5/0.0", "5/0.0", "5/0.1", "5/0.1"])
        self.assertEqual([r["index"] for r in recs], [0, 1, 0, 1])
        self.assertEqual({r["step"] for r in recs}, {5})
        r0 = recs[0]
        self.assertEqual(r0["prompt"], {"text": "Which is left? A. car B. dog", "images": ["images/0001.jpg"]})
        self.assertEqual(r0["gt_boxes"], [{"label": "dog", "box": [27.0, 346.0, 80.0, 376.0]}])
        self.assertEqual(r0["rewards"], {"accuracy_reward": 1.0, "format_reward": 0.5})
        self.assertEqual([r["reward"] for r in recs], [1.5, 0.0, 1.5, 0.5])
        # group 5/0.0: rewards 1.5, 0.0 -> mean 0.75, sample std sqrt(2 * 0.75**2 / 1)
        std = math.sqrt(2 * 0.75 ** 2)
        self.assertAlmostEqual(recs[0]["advantage"], 0.75 / (std + 1e-4), places=12)
        self.assertAlmostEqual(recs[1]["advantage"], -0.75 / (std + 1e-4), places=12)
        # group 5/0.1: rewards 1.5, 0.5 -> mean 1.0, std sqrt(0.5)
        self.assertAlmostEqual(recs[3]["advantage"], -0.5 / (math.sqrt(0.5) + 1e-4), places=12)
        self.assertEqual(recs[2]["meta"]["rank"], 0)
        # A second batch in the same step gets new group ids.
        funcs[0](**b)
        funcs[1](**b)
        recs = read(os.path.join(self.out, "rollouts.rank0.jsonl"))
        self.assertEqual([r["group"] for r in recs[4:]], ["5/1.0", "5/1.0", "5/1.1", "5/1.1"])

    def test_none_and_nan_rewards_are_left_out(self):
        funcs = record_rewards([format_reward, judge_reward], self.out, num_generations=4, run="demo")
        b = self.batch()
        for f in funcs:
            f(**b)
        recs = read(os.path.join(self.out, "rollouts.rank0.jsonl"))
        self.assertEqual([sorted(r["rewards"]) for r in recs], [["format_reward"], ["format_reward"], ["format_reward", "judge_reward"], ["format_reward", "judge_reward"]])
        self.assertEqual(recs[0]["run"], "demo")
        self.assertEqual({r["group"] for r in recs}, {"5/0.0"})

    def test_rank_offsets_group_positions(self):
        os.environ["RANK"] = "1"
        try:
            funcs = record_rewards([format_reward], self.out, num_generations=8)
        finally:
            os.environ.pop("RANK")
        b = self.batch()
        del b["trainer_state"]
        funcs[0](**b)
        recs = read(os.path.join(self.out, "rollouts.rank1.jsonl"))
        # rank 1 holds global positions 4..7 of group 0: indices 4..7, no advantage (group not whole here)
        self.assertEqual([(r["step"], r["group"], r["index"]) for r in recs], [(0, "0/0.0", 4), (0, "0/0.0", 5), (0, "0/0.0", 6), (0, "0/0.0", 7)])
        self.assertTrue(all("advantage" not in r for r in recs))

    def test_no_trainer_import(self):
        import grpo_studio  # noqa: F401

        for heavy in ("torch", "trl", "transformers"):
            self.assertNotIn(heavy, sys.modules)


if __name__ == "__main__":
    unittest.main()
