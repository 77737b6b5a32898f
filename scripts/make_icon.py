"""Draws the addons' icon (static/description/icon.png): a rising bar chart."""

import sys

from PIL import Image, ImageDraw

SIZE = 256


def draw(path, accent):
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((8, 8, SIZE - 8, SIZE - 8), radius=40, fill=(35, 46, 71))
    for index, height in enumerate((60, 100, 150)):
        left = 52 + index * 56
        pen.rounded_rectangle(
            (left, 200 - height, left + 40, 200), radius=8, fill=accent
        )
    pen.line((50, 150, 110, 110, 160, 120, 210, 60), fill=(255, 255, 255), width=10)
    image.save(path)


if __name__ == "__main__":
    colours = {
        "core": (240, 120, 60),
        "website": (60, 160, 230),
        "marketing": (120, 200, 90),
    }
    draw(sys.argv[1], colours[sys.argv[2]])
