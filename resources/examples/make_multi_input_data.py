"""Regenerate multi_input_data.npz, the data of multi_input.json (deterministic)."""

from pathlib import Path

import numpy as np


def make(samples: int = 1200, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    sensors = rng.normal(size=(samples, 16)).astype("float32")
    tokens = rng.integers(0, 50, size=(samples, 20)).astype("int32")
    token_score = (tokens < 10).mean(axis=1) - (tokens >= 40).mean(axis=1)
    w = rng.normal(size=16)
    temperature = (sensors @ w / 4.0 + 3.0 * token_score).astype("float32")[:, None]
    alarm = ((sensors[:, 0] + sensors[:, 1] + 4 * token_score) > 0).astype("float32")[:, None]
    tags = np.stack(
        [sensors[:, 2] > 0, sensors[:, 3] > 0.5, token_score > 0, sensors[:, 4] < -0.5,
         (tokens[:, 0] % 2) == 0],
        axis=1,
    ).astype("float32")
    return {"sensors": sensors, "tokens": tokens, "temperature": temperature, "alarm": alarm,
            "tags": tags}


if __name__ == "__main__":
    np.savez_compressed(Path(__file__).with_name("multi_input_data.npz"), **make())
