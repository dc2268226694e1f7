#!/usr/bin/env python3
"""Draws flashd's logo (the same bolt as www/logo.svg) into www/logo.png and www/favicon.png.

Standard library only: the shapes are rasterised with 4x4 supersampling and written as RGBA PNGs
with zlib. Run once from anywhere; the outputs are committed, so the site needs no build step.
"""
import os
import struct
import zlib

# The bolt and the rounded square, in a 100 x 100 box (logo.svg uses the same numbers).
BOLT = [(57, 8), (25, 55), (46, 55), (37, 92), (75, 42), (54, 42), (67, 8)]
RADIUS = 22
TOP_COLOUR = (255, 179, 0)      # #ffb300
BOTTOM_COLOUR = (244, 81, 30)   # #f4511e
BOLT_COLOUR = (255, 255, 255)
SUBSAMPLES = 4


def inside_polygon(x, y, points):
    """Even-odd rule: count edge crossings of a ray to the right of (x, y)."""
    inside = False
    j = len(points) - 1
    for i, (xi, yi) in enumerate(points):
        xj, yj = points[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def inside_rounded_square(x, y):
    if not (0 <= x <= 100 and 0 <= y <= 100):
        return False
    cx = min(max(x, RADIUS), 100 - RADIUS)
    cy = min(max(y, RADIUS), 100 - RADIUS)
    return (x - cx) ** 2 + (y - cy) ** 2 <= RADIUS ** 2


def render(size):
    """Returns rows of RGBA bytes for a size x size image."""
    rows = []
    step = 100 / (size * SUBSAMPLES)
    for py in range(size):
        row = bytearray()
        for px in range(size):
            square = bolt = 0
            for sy in range(SUBSAMPLES):
                y = (py * SUBSAMPLES + sy + 0.5) * step
                for sx in range(SUBSAMPLES):
                    x = (px * SUBSAMPLES + sx + 0.5) * step
                    if inside_rounded_square(x, y):
                        square += 1
                        if inside_polygon(x, y, BOLT):
                            bolt += 1
            n = SUBSAMPLES * SUBSAMPLES
            t = (py + 0.5) / size  # vertical gradient
            background = [a + (b - a) * t for a, b in zip(TOP_COLOUR, BOTTOM_COLOUR)]
            if square == 0:
                row += bytes((0, 0, 0, 0))
                continue
            # Within the covered part, mix bolt over background; coverage becomes alpha.
            f = bolt / square
            colour = [round(bg + (fg - bg) * f) for bg, fg in zip(background, BOLT_COLOUR)]
            row += bytes(colour + [round(255 * square / n)])
        rows.append(bytes(row))
    return rows


def write_png(path, size):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + row for row in render(size))  # filter type 0 on every row
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)
    print(f"{path}: {size}x{size}, {len(png)} bytes")


if __name__ == "__main__":
    www = os.path.join(os.path.dirname(os.path.abspath(__file__)), "www")
    write_png(os.path.join(www, "logo.png"), 160)
    write_png(os.path.join(www, "favicon.png"), 32)
