"""Regenerate houses.csv, the data of houses.json (deterministic).

400 houses: eight features on their own scales (areas in square metres, distances in km…), the
price in thousands (a regression target, 3 % of the cells empty) and a category
budget/standard/premium (a classification target, 10 % of the cells empty).
"""

import csv
from pathlib import Path

import numpy as np

COLUMNS = ["area_m2", "rooms", "age_years", "distance_km", "floor", "energy_score",
           "garden_m2", "noise_db", "price", "category"]


def make(rows: int = 400, seed: int = 7) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    area = rng.gamma(6.0, 16.0, rows).clip(28, 260)
    rooms = np.clip(np.round(area / 28 + rng.normal(0, 0.7, rows)), 1, 8)
    age = rng.uniform(0, 90, rows)
    distance = rng.gamma(2.0, 5.0, rows).clip(0.3, 45)
    floor = rng.integers(0, 16, rows)
    energy = np.clip(95 - 0.7 * age + rng.normal(0, 9, rows), 5, 100)
    garden = np.where(rng.random(rows) < 0.45, 0.0, rng.gamma(2.0, 120.0, rows))
    noise = np.clip(72 - 0.6 * distance + rng.normal(0, 4, rows), 32, 85)
    quality = rng.normal(0, 1, rows)  # not in the table: what makes a house premium
    price = (40 + 0.55 * area + 2.5 * rooms - 0.22 * age - 0.9 * distance + 0.2 * energy
             + 0.03 * garden - 0.3 * (noise - 50) + 8.0 * quality + rng.normal(0, 4, rows))
    score = (price - np.median(price)) / price.std() + 0.5 * quality + rng.normal(0, 0.25, rows)
    category = np.where(score < -0.55, "budget", np.where(score > 0.65, "premium", "standard"))
    table = []
    for i in range(rows):
        table.append([f"{area[i]:.1f}", f"{rooms[i]:.0f}", f"{age[i]:.0f}", f"{distance[i]:.2f}",
                      f"{floor[i]}", f"{energy[i]:.0f}", f"{garden[i]:.0f}", f"{noise[i]:.1f}",
                      "" if rng.random() < 0.03 else f"{price[i]:.1f}",
                      "" if rng.random() < 0.10 else str(category[i])])
    return table


if __name__ == "__main__":
    with open(Path(__file__).with_name("houses.csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(make())
