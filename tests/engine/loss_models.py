"""Tiny projects and hand-built functional models for the loss tests."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from mogui.core.project import Project
from mogui.engine.data.dataset import Dataset

FEATURES = 3


def tiny_project(heads: list[dict[str, Any]], loss_mode: str = "per_output",
                 joint_source: str = "", term_weights: dict[str, float] | None = None,
                 batch_size: int = 8) -> Project:
    """A project with one input ``x`` of 3 features feeding every head directly."""
    return Project.model_validate({
        "inputs": [{"name": "x", "shape": [FEATURES]}],
        "heads": heads,
        "loss_mode": loss_mode,
        "joint_loss": {"source": joint_source, "term_weights": term_weights or {}},
        "training": {"batch_size": batch_size, "epochs": 1, "validation_split": 0.0,
                     "optimizer": "sgd", "learning_rate": 0.01},
    })


def head(name: str, task: str = "regression", units: int = 2, kind: str | None = None,
         weight: float = 1.0, source: str = "", activation: str | None = None,
         metrics: list[str] | None = None, enabled: bool = True) -> dict[str, Any]:
    loss: dict[str, Any] = {"weight": weight, "source": source, "enabled": enabled,
                            "metrics": metrics or []}
    if kind is not None:
        loss["kind"] = kind
    spec: dict[str, Any] = {"name": name, "task": task, "units": units, "loss": loss}
    if activation is not None:
        spec["activation"] = activation
    return spec


def hand_model(project: Project, seed: int = 0) -> keras.Model:
    """Functional model: input ``x`` -> one Dense per head, named after the head."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((FEATURES,), name="x")
    outputs = {h.name: keras.layers.Dense(h.units, activation=h.output_activation,
                                          name=h.name)(inp) for h in project.heads}
    return keras.Model({"x": inp}, outputs)


def tiny_data(targets: dict[str, np.ndarray], n: int = 16, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    return Dataset(x={"x": rng.normal(size=(n, FEATURES)).astype("float32")}, y=targets)


def regression_target(n: int, units: int, scale: float, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=(n, units)) * scale).astype("float32")


def class_labels(n: int, classes: int, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, classes, size=(n, 1)).astype("int32")
