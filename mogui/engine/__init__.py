"""Keras engine: build, inspect, compile losses, train, export. Never imports Qt."""
