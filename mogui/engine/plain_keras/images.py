"""Image files as model input: decoded, converted to the input's channels, resized, scaled."""

import tensorflow as tf


def decode_image(raw, shape, resize=True, scale="unit"):
    """The bytes of a PNG, JPEG, GIF or BMP file as float32 ``shape`` = (height, width,
    channels): resized when ``resize`` is on, then scaled to 0..1 (``unit``), -1..1
    (``symmetric``) or left at 0..255 (``none``)."""
    height, width, channels = shape
    image = tf.io.decode_image(raw, channels=channels, expand_animations=False)
    image = tf.cast(image, tf.float32)
    if resize:  # an image of the right size already is left alone (resizing it is a no-op)
        same = tf.reduce_all(tf.shape(image)[:2] == (height, width))
        image = tf.cond(same, lambda: image, lambda: tf.image.resize(image, (height, width)))
    if scale == "unit":
        image = image / 255.0
    elif scale == "symmetric":
        image = image / 127.5 - 1.0
    return image
