#!/usr/bin/python3
"""A contact sheet of a `sakuga synth redraw` folder (docs/images/redraw-synth-sheet.png).

Top: the first frames with their boxes (faces yellow, eyes cyan, labelled p<production>
d<design>). Below: for the characters of those frames, the face crop and its mask side by side.

    /usr/bin/python3 tools/redraw_contact_sheet.py DIR OUT.png [--frames 4] [--scale 1.0]

Needs numpy and Pillow (Debian python3-numpy, python3-pil).
"""
import argparse
import json
import pathlib

from PIL import Image, ImageDraw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("out")
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--crop", type=int, default=96, help="side of a crop cell in the sheet")
    a = ap.parse_args()
    root = pathlib.Path(a.dir)
    names = sorted(p.stem for p in (root / "frames").glob("*.png"))[: a.frames]
    frames, crops = [], []
    for name in names:
        img = Image.open(root / "frames" / (name + ".png")).convert("RGB")
        labels = json.loads((root / "frames" / (name + ".json")).read_text())
        d = ImageDraw.Draw(img)
        for b in labels["boxes"]:
            x0, y0, x1, y1 = b["box"]
            colour = (255, 220, 0) if b["kind"] == "face" else (0, 230, 255)
            d.rectangle([x0, y0, x1 - 1, y1 - 1], outline=colour)
            if b["kind"] == "face":
                d.text((x0 + 2, y0 + 1), f"p{b['production']} d{b['design']}", fill=colour)
        frames.append(img)
        k = 0
        for b in labels["boxes"]:
            if b["kind"] != "face":
                continue
            folder = root / "crops" / str(b["production"]) / str(b["design"])
            stem = f"{name}_{k}"  # the k-th face box is character k
            crop = Image.open(folder / (stem + ".png")).convert("RGB").resize((a.crop, a.crop), Image.NEAREST)
            mask = Image.open(folder / (stem + ".mask.png")).convert("RGB").resize((a.crop, a.crop), Image.NEAREST)
            crops.append((crop, mask))
            k += 1
    pad = 4
    fw = sum(f.width for f in frames) + pad * (len(frames) + 1)
    fh = max(f.height for f in frames) + 2 * pad
    per_row = max(1, (fw - pad) // (2 * a.crop + 2 * pad))
    rows = (len(crops) + per_row - 1) // per_row
    sheet = Image.new("RGB", (fw, fh + rows * (a.crop + pad)), (40, 40, 40))
    x = pad
    for f in frames:
        sheet.paste(f, (x, pad))
        x += f.width + pad
    for i, (crop, mask) in enumerate(crops):
        r, c = divmod(i, per_row)
        x, y = pad + c * (2 * a.crop + 2 * pad), fh + r * (a.crop + pad)
        sheet.paste(crop, (x, y))
        sheet.paste(mask, (x + a.crop + 1, y))
    # 256 colours keep the sheet small enough for the docs (a few tens of KB).
    sheet.quantize(256, dither=Image.Dither.NONE).save(a.out, optimize=True)


if __name__ == "__main__":
    main()
