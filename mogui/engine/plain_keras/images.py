"""Image files as model input: decoded, converted to the input's channels, resized, scaled.

Pixels stay whole 0..255 values (``uint8``) until they are scaled: a resized image is rounded
back to whole values, as 8-bit image tools do. Pipelines keep decoded images in that form,
four times smaller than floats, and scale whole batches at once.
"""

import tensorflow as tf


def decode_pixels(raw, shape, resize=True):
    """The bytes of a PNG, JPEG, GIF or BMP file as ``uint8`` pixels of ``shape`` = (height,
    width, channels), resized (and rounded) when ``resize`` is on and the size differs."""
    height, width, channels = shape
    image = tf.io.decode_image(raw, channels=channels, expand_animations=False)
    if resize:  # an image of the right size already is left alone

        def resized():
            scaled = tf.image.resize(tf.cast(image, tf.float32), (height, width))
            return tf.cast(tf.round(tf.clip_by_value(scaled, 0.0, 255.0)), tf.uint8)

        same = tf.reduce_all(tf.shape(image)[:2] == (height, width))
        image = tf.cond(same, lambda: image, resized)
    return image


def scale_pixels(pixels, scale="unit"):
    """``uint8`` pixels (one image or a batch) as float32: 0..1 (``unit``), -1..1
    (``symmetric``) or left at 0..255 (``none``)."""
    image = tf.cast(pixels, tf.float32)
    if scale == "unit":
        return image / 255.0
    if scale == "symmetric":
        return image / 127.5 - 1.0
    return image


def decode_image(raw, shape, resize=True, scale="unit"):
    """The bytes of an image file as float32 ``shape``: :func:`decode_pixels`, then
    :func:`scale_pixels`."""
    return scale_pixels(decode_pixels(raw, shape, resize), scale)
