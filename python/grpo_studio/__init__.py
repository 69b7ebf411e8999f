"""GRPO Studio companion: record what TRL-style GRPO reward functions see into native v1 rollout
files (prompts, completions, image paths, gold boxes, every reward, group ids and steps), so the
GRPO Studio viewer shows images and boxes for TRL runs.

Standard library only; nothing from a trainer is imported, at load time or later.

    from grpo_studio import record_rewards
    reward_funcs = record_rewards([accuracy_reward, format_reward], "output/rollouts", num_generations=4)
    trainer = GRPOTrainer(model=..., reward_funcs=reward_funcs, args=GRPOConfig(num_generations=4, ...))
"""
from .recorder import RolloutRecorder, record_rewards

__all__ = ["RolloutRecorder", "record_rewards"]
__version__ = "0.1.0"
