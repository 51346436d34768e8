#!/usr/bin/env bash
# Bad input through the command line: every case must exit with status 1 (a sakuga::Error, not a
# crash or a signal) and print "sakuga: error:" with the offending file or key in the message.
# Usage: test_cli_errors.sh path/to/sakuga
set -u
sakuga=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

expect_error() {  # name, text the message must contain, command...
  local name=$1 needle=$2
  shift 2
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -ne 1 ]; then
    echo "FAIL $name: exit status $rc (want 1)"; echo "$out" | tail -n 5; fail=1
  elif ! grep -q "sakuga: error:" <<<"$out" || ! grep -qF -- "$needle" <<<"$out"; then
    echo "FAIL $name: message lacks '$needle':"; echo "$out" | tail -n 5; fail=1
  else
    echo "ok   $name: $(grep 'sakuga: error:' <<<"$out" | head -n 1 | cut -c1-160)"
  fi
}

# A small valid douga dataset, then one problem at a time in copies of it.
"$sakuga" synth douga --out "$tmp/ok" --count 4 --size 64 64 --quiet || { echo "FAIL synth"; exit 1; }
train=(train douga --set train.steps=1 --set data.size=[64,64] --set data.val_fraction=0.0)

cp -r "$tmp/ok" "$tmp/missing"; rm "$tmp/missing/douga/synth-000002.png"
expect_error "frame without its douga" "synth-000002.png" "$sakuga" "${train[@]}" --out "$tmp/run" --data "$tmp/missing"

cp -r "$tmp/ok" "$tmp/trunc"; f="$tmp/trunc/frames/synth-000001.png"; head -c 60 "$f" > "$f.x"; mv "$f.x" "$f"
expect_error "truncated frame PNG" "synth-000001.png" "$sakuga" "${train[@]}" --out "$tmp/run" --data "$tmp/trunc"

cp -r "$tmp/ok" "$tmp/text"; echo "not a png" > "$tmp/text/douga/synth-000003.png"
expect_error "text file as douga PNG" "synth-000003.png" "$sakuga" "${train[@]}" --out "$tmp/run" --data "$tmp/text"

"$sakuga" synth cel --out "$tmp/cel" --count 2 --size 64 64 --quiet
"$sakuga" synth cel --out "$tmp/cel-big" --count 2 --size 80 64 --quiet
cp "$tmp/cel-big/masks/synth-000000.png" "$tmp/cel/masks/synth-000000.png"
expect_error "wrong-sized mask" "synth-000000.png" "$sakuga" train cel --data "$tmp/cel" --out "$tmp/run-cel" \
  --set train.steps=1 --set data.size=[64,64] --set data.val_fraction=0.0

expect_error "unknown config key" "model.kk" "$sakuga" "${train[@]}" --out "$tmp/run" --synthetic --set model.kk=3
expect_error "even GCN kernel" "model.k" "$sakuga" "${train[@]}" --out "$tmp/run" --synthetic --set model.k=4

printf 'garbage' > "$tmp/garbage.safetensors"
expect_error "garbage checkpoint" "garbage.safetensors" "$sakuga" infer douga --ckpt "$tmp/garbage.safetensors" \
  --input "$tmp/ok/frames/synth-000000.png" --out "$tmp/pred"
# A header length far beyond the file.
printf '\xff\xff\xff\xff\x00\x00\x00\x00{}' > "$tmp/hostile.safetensors"
expect_error "hostile header length" "hostile.safetensors" "$sakuga" eval douga --ckpt "$tmp/hostile.safetensors" \
  --data "$tmp/ok"

# A real checkpoint, truncated.
"$sakuga" "${train[@]}" --synthetic --out "$tmp/good" > /dev/null 2>&1 || { echo "FAIL training a checkpoint"; exit 1; }
ck="$tmp/good/checkpoints/last.safetensors"
head -c 5000 "$ck" > "$tmp/truncated.safetensors"
expect_error "truncated checkpoint" "truncated.safetensors" "$sakuga" infer douga --ckpt "$tmp/truncated.safetensors" \
  --input "$tmp/ok/frames/synth-000000.png" --out "$tmp/pred"
expect_error "douga checkpoint for cel" "last.safetensors: config model.task" "$sakuga" infer cel --ckpt "$ck" \
  --input "$tmp/ok/frames/synth-000000.png" --out "$tmp/pred"
expect_error "resume without checkpoint" "last.safetensors" "$sakuga" "${train[@]}" --synthetic --out "$tmp/empty-run" --resume

# The good paths of the same files work.
if "$sakuga" infer douga --ckpt "$ck" --input "$tmp/ok/frames/synth-000000.png" --out "$tmp/pred" --postprocess \
     --save-logits > /dev/null 2>&1 && [ -f "$tmp/pred/synth-000000.douga.png" ] &&
   [ -f "$tmp/pred/synth-000000.logits.safetensors" ]; then
  echo "ok   infer writes NAME.douga.png and NAME.logits.safetensors"
else
  echo "FAIL infer on a good checkpoint"; fail=1
fi

# gadn: a small held-out folder, then one problem at a time in copies of it.
"$sakuga" synth gadn --kind fmnist-artists --out "$tmp/g" --count 8 --artists 2 --quiet || { echo "FAIL synth gadn"; exit 1; }
gtrain=(train gadn --set data.artists=2 --set data.train_limit=64 --set data.val_count=8 --set data.batch=2
        --set model.channels=[8,8,8] --set model.fc=16 --set model.z=4 --set train.stages.stage1.steps=1
        --set train.stages.c2.steps=1 --set train.stages.stage2.steps=1 --set train.stages.c2.batch=2)
mkdir -p "$tmp/g1/a" "$tmp/g1/b"; cp "$tmp/g/artist-00/"*.png "$tmp/g1/a/"; cp "$tmp/g/artist-01/fmnist-000001.png" "$tmp/g1/b/"
expect_error "gadn label folder with one image" "g1/b" "$sakuga" "${gtrain[@]}" --data "$tmp/g1" --out "$tmp/grun"
cp -r "$tmp/g" "$tmp/gbad"; echo "not a png" > "$tmp/gbad/artist-01/fmnist-000003.png"
expect_error "gadn unreadable PNG" "fmnist-000003.png" "$sakuga" "${gtrain[@]}" --data "$tmp/gbad" --out "$tmp/grun"
expect_error "gadn stage 2 without stage 1" "train.init" "$sakuga" "${gtrain[@]}" --out "$tmp/grun" \
  --set train.stages.stage1.steps=0
expect_error "gadn eval of a douga checkpoint" "not gadn" "$sakuga" eval gadn --ckpt "$ck" --data "$tmp/g"
expect_error "gadn init from a douga checkpoint" "family 'douga'" "$sakuga" "${gtrain[@]}" --out "$tmp/grun" \
  --set train.init="\"$ck\""
"$sakuga" "${gtrain[@]}" --out "$tmp/ggood" > /dev/null 2>&1 || { echo "FAIL training a gadn checkpoint"; exit 1; }
gck="$tmp/ggood/checkpoints/last.safetensors"
expect_error "gadn unknown --style label" "no label 'nobody'" "$sakuga" infer gadn --ckpt "$gck" \
  --input "$tmp/g/artist-00/fmnist-000000.png" --style artist-01,nobody --out "$tmp/gout"
expect_error "gadn checkpoint for douga" "family 'gadn', not a gcn" "$sakuga" infer douga --ckpt "$gck" \
  --input "$tmp/ok/frames/synth-000000.png" --out "$tmp/pred"
if "$sakuga" infer gadn --ckpt "$gck" --input "$tmp/g/artist-00/fmnist-000000.png" --style artist-01 --grid \
     --out "$tmp/gout" > /dev/null 2>&1 && [ -f "$tmp/gout/fmnist-000000.artist-01.png" ] && [ -f "$tmp/gout/grid.png" ]; then
  echo "ok   infer gadn writes NAME.LABEL.png and grid.png"
else
  echo "FAIL infer gadn on a good checkpoint"; fail=1
fi

# scenimefy: a small CUT-layout folder, then one problem at a time in copies of it.
"$sakuga" synth scenimefy --out "$tmp/s" --count 4 --size 32 32 --quiet || { echo "FAIL synth scenimefy"; exit 1; }
strain=(train scenimefy --set train.steps=1 --set data.size=32 --set model.ngf=4 --set model.blocks=5
        --set model.ndf=4 --set model.nc=8 --set model.patches=8 --set data.val_count=1)
cp -r "$tmp/s" "$tmp/s-partner"; rm "$tmp/s-partner/pairs/B/pair-000000.png"
expect_error "scenimefy pair without its partner" "pair-000000.png" "$sakuga" "${strain[@]}" --data "$tmp/s-partner" \
  --out "$tmp/srun"
cp -r "$tmp/s" "$tmp/s-size"; "$sakuga" synth scenimefy --out "$tmp/s-big" --count 1 --size 36 32 --quiet
cp "$tmp/s-big/pairs/B/pair-000000.png" "$tmp/s-size/pairs/B/pair-000000.png"
expect_error "scenimefy pair halves of two sizes" "pair-000000.png" "$sakuga" "${strain[@]}" --data "$tmp/s-size" \
  --out "$tmp/srun"
cp -r "$tmp/s" "$tmp/s-noB"; rm "$tmp/s-noB/trainB/"*.png
expect_error "scenimefy empty trainB" "trainB" "$sakuga" "${strain[@]}" --data "$tmp/s-noB" --out "$tmp/srun"
cp -r "$tmp/s" "$tmp/s-notruth"; rm -r "$tmp/s-notruth/truth"
expect_error "scenimefy eval of a douga checkpoint" "not scenimefy" "$sakuga" eval scenimefy --ckpt "$ck" --data "$tmp/s"
/usr/bin/python3 - "$tmp/G-missing.safetensors" <<'PY' 2>/dev/null
import json, struct, sys
# a generator state_dict (CUT names) with only its first conv: every other tensor is missing
hdr = {"model.1.weight": {"dtype": "F32", "shape": [4, 3, 7, 7], "data_offsets": [0, 4 * 588]}}
h = json.dumps(hdr).encode()
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + bytes(4 * 588))
PY
expect_error "scenimefy generator with missing tensors" "missing" "$sakuga" infer scenimefy \
  --ckpt "$tmp/G-missing.safetensors" --input "$tmp/s/trainA/scene-000000.png" --out "$tmp/sout"
"$sakuga" "${strain[@]}" --data "$tmp/s" --out "$tmp/sgood" > /dev/null 2>&1 || { echo "FAIL training scenimefy"; exit 1; }
sck="$tmp/sgood/checkpoints/last.safetensors"
expect_error "scenimefy eval without truth" "truth" "$sakuga" eval scenimefy --ckpt "$sck" --data "$tmp/s-notruth"
if
   "$sakuga" infer scenimefy --ckpt "$tmp/sgood/checkpoints/last.safetensors" --input "$tmp/s-big/trainA/scene-000000.png" \
     --out "$tmp/sout" > /dev/null 2>&1 && [ -f "$tmp/sout/scene-000000.anime.png" ]; then
  echo "ok   scenimefy trains on a folder; infer writes NAME.anime.png"
else
  echo "FAIL scenimefy training on a folder or infer"; fail=1
fi

# blend (redraw post-processing): small PNGs written with zlib alone, then one problem at a time.
/usr/bin/python3 - "$tmp/b" <<'PY' || { echo "FAIL writing blend PNGs"; exit 1; }
import math, os, struct, sys, zlib
out = sys.argv[1]
os.makedirs(out)
def png(name, h, w, channels, pixel):
    raw = b"".join(b"\0" + bytes(v for x in range(w) for v in pixel(y, x)) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, {1: 0, 3: 2}[channels], 0, 0, 0)
    with open(os.path.join(out, name), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
eye = lambda y, x: ((y - 30) / 12) ** 2 + ((x - 32) / 18) ** 2 < 1
png("frame.png", 64, 64, 3, lambda y, x: (100 + y, 80 + x, 120))
png("patch.png", 64, 64, 3, lambda y, x: (200, int(100 + 50 * math.sin(x / 5)), 60))
png("mask.png", 64, 64, 1, lambda y, x: (255 if eye(y, x) else 0,))
png("patch-small.png", 48, 64, 3, lambda y, x: (200, 100, 60))
png("mask-big.png", 80, 64, 1, lambda y, x: (255 if eye(y, x) else 0,))
png("mask-empty.png", 64, 64, 1, lambda y, x: (127,))
png("mask-full.png", 64, 64, 1, lambda y, x: (255,))
PY
b="$tmp/b"
blend=(blend --frame "$b/frame.png" --patch "$b/patch.png" --out "$b/out.png")
expect_error "blend mask of another size" "mask-big.png: mask is 80x64, expected the frame's size 64x64" \
  "$sakuga" "${blend[@]}" --mask "$b/mask-big.png"
expect_error "blend patch of another size" "patch-small.png: patch is 48x64" "$sakuga" blend --frame "$b/frame.png" \
  --patch "$b/patch-small.png" --mask "$b/mask.png" --out "$b/out.png"
expect_error "blend empty mask" "mask-empty.png: the mask is empty" "$sakuga" "${blend[@]}" --mask "$b/mask-empty.png"
expect_error "blend mask covering the frame" "mask-full.png: the mask covers the whole frame" "$sakuga" "${blend[@]}" \
  --mask "$b/mask-full.png"
echo "not a png" > "$b/text.png"
expect_error "blend unreadable frame PNG" "text.png" "$sakuga" blend --frame "$b/text.png" --patch "$b/patch.png" \
  --mask "$b/mask.png" --out "$b/out.png"
expect_error "blend missing patch" "nothere.png" "$sakuga" blend --frame "$b/frame.png" --patch "$b/nothere.png" \
  --mask "$b/mask.png" --out "$b/out.png"
if out=$("$sakuga" "${blend[@]}" --mask "$b/mask.png" --device cpu 2>&1) && [ -f "$b/out.png" ] &&
   grep -q "colour transfer" <<<"$out" && grep -q "CG iterations" <<<"$out" &&
   "$sakuga" "${blend[@]}" --mask "$b/mask.png" --device cpu --no-color-transfer 2>&1 | grep -q "CG iterations" &&
   ! "$sakuga" "${blend[@]}" --mask "$b/mask.png" --device cpu --no-color-transfer 2>&1 | grep -q "colour transfer"; then
  echo "ok   blend writes the blended frame and reports the solve"
else
  echo "FAIL blend on good files"; echo "$out" | tail -n 5; fail=1
fi

# synth redraw: the pinned layout, then bad options and an occupied --out.
r="$tmp/rd"
if "$sakuga" synth redraw --out "$r" --count 3 --seed 1 --size 96 128 --quiet --sheet "$tmp/rd-world.png" &&
   [ -s "$tmp/rd-world.png" ] &&
   [ -f "$r/frames/redraw-000000.png" ] && [ -f "$r/frames/redraw-000002.json" ] && [ -f "$r/redraw.json" ] &&
   grep -q '"kind": *"eye"' "$r/frames/redraw-000000.json" &&
   ls "$r"/crops/*/*/redraw-000000_0.png > /dev/null 2>&1 && ls "$r"/crops/*/*/redraw-000000_0.mask.png > /dev/null 2>&1; then
  echo "ok   synth redraw writes frames/NAME.png + NAME.json, crops/<production>/<design>/NAME_k(.mask).png, --sheet"
else
  echo "FAIL synth redraw layout"; find "$r" | head -n 10; fail=1
fi
expect_error "synth redraw --count 0" "--count must be at least 1, got 0" "$sakuga" synth redraw --out "$tmp/rd0" --count 0
expect_error "synth redraw --size too small" "--size must be within 64" "$sakuga" synth redraw --out "$tmp/rd0" \
  --size 32 64
expect_error "synth redraw --held-out all" "held-out productions must be in 0 … 3" "$sakuga" synth redraw \
  --out "$tmp/rd0" --held-out 4
expect_error "synth redraw occupied --out" "exists and is not empty" "$sakuga" synth redraw --out "$r" --count 1 --quiet
expect_error "synth redraw --overwrite of a non-redraw folder" "holds no redraw.json" "$sakuga" synth redraw \
  --out "$tmp/ok" --count 1 --overwrite --quiet
if "$sakuga" synth redraw --out "$r" --count 1 --size 96 128 --overwrite --quiet && [ ! -f "$r/frames/redraw-000002.png" ]; then
  echo "ok   synth redraw --overwrite replaces a previous redraw dataset"
else
  echo "FAIL synth redraw --overwrite"; fail=1
fi

# train / eval redraw --stage redrawer: a tiny run, then a checkpoint of the wrong stage or file.
rr="$tmp/rr"
rtrain=(train redraw --stage redrawer --set redrawer.steps=1 --set redrawer.batch=1
        --set redrawer.net.channels=2 --set redrawer.net.levels=2 --set redrawer.net.d_channels=2
        --set redrawer.net.d_layers=2 --set redrawer.crops.size=32 --set redrawer.crops.val_count=1
        --set redrawer.loss.sigma=1 --set redrawer.loss.band=1)
if "$sakuga" "${rtrain[@]}" --out "$rr" > /dev/null 2>&1 && [ -f "$rr/checkpoints/last.safetensors" ]; then
  echo "ok   train redraw --stage redrawer writes a checkpoint"
  expect_error "eval redraw a redrawer checkpoint as a detector" "a checkpoint of the redraw redrawer stage, not the detect" \
    "$sakuga" eval redraw --stage detect --ckpt "$rr/checkpoints/last.safetensors" --quiet
  expect_error "eval redraw --stage redrawer on a folder" "synthetic crops" "$sakuga" eval redraw --stage redrawer \
    --ckpt "$rr/checkpoints/last.safetensors" --data "$r" --quiet
  expect_error "eval redraw a PNG as checkpoint" "frame.png" "$sakuga" eval redraw --stage redrawer \
    --ckpt "$b/frame.png" --quiet
else
  echo "FAIL train redraw --stage redrawer"; fail=1
fi
expect_error "train redraw --stage redrawer on a dataset folder" "data.synthetic" "$sakuga" "${rtrain[@]}" \
  --out "$tmp/rr2" --data "$r"
expect_error "train redraw crop size" "redrawer.crops.size" "$sakuga" "${rtrain[@]}" --out "$tmp/rr2" \
  --set redrawer.crops.size=30
# train redraw --stage detect: a dataset folder without frames/, a box outside its frame.
mkdir -p "$tmp/rd-noframes"
rdtrain=(train redraw --stage detect --out "$tmp/rd-run" --set detect.steps=1 --set detect.size=[64,64]
         --set detect.batch=1)
expect_error "train redraw detect without frames/" "rd-noframes/frames" "$sakuga" "${rdtrain[@]}" --data "$tmp/rd-noframes"
cp -r "$r" "$tmp/rd-badbox"
echo '{"boxes": [{"kind": "face", "box": [0, 0, 200, 10]}]}' > "$tmp/rd-badbox/frames/redraw-000000.json"
expect_error "train redraw detect, a box outside its frame" "redraw-000000.json" "$sakuga" "${rdtrain[@]}" \
  --data "$tmp/rd-badbox"
# train / eval redraw --stage encoder: a crop folder without designs; a checkpoint of another stage.
mkdir -p "$tmp/rd-nodesign/crops/0"
expect_error "train redraw encoder, production folder without designs" "$tmp/rd-nodesign/crops/0" \
  "$sakuga" train redraw --stage encoder --data "$tmp/rd-nodesign" --out "$tmp/rd-enc-run"
python3 - "$tmp/rd-detect.safetensors" <<'PY'
import json, struct, sys
header = {"__metadata__": {"family": "redraw", "config": json.dumps({"stage": "detect"})},
          "detector.w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
h = json.dumps(header).encode()
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + b"\0\0\0\0")
PY
expect_error "eval redraw --stage encoder on a detect checkpoint" "a checkpoint of the redraw detect stage, not the encoder stage" \
  "$sakuga" eval redraw --stage encoder --ckpt "$tmp/rd-detect.safetensors" --synthetic 2

# `sakuga info` says whether kernel launches are synchronised (SAKUGA_SYNC_LAUNCHES=1).
if SAKUGA_SYNC_LAUNCHES=1 "$sakuga" info 2>&1 | grep -q "kernel launches: synchronised after each launch" &&
   SAKUGA_SYNC_LAUNCHES=0 "$sakuga" info 2>&1 | grep -q "kernel launches: asynchronous"; then
  echo "ok   info reports SAKUGA_SYNC_LAUNCHES"
else
  echo "FAIL info does not report SAKUGA_SYNC_LAUNCHES"; fail=1
fi
# The OpenBLAS core (kernels/cpu/blas_kernels.h): a user's OPENBLAS_CORETYPE is kept; without
# one, a CPU with AVX2 + FMA never runs a core older than Haswell's.
core_of() { "$sakuga" info 2>/dev/null | sed -n 's/^cpu GEMM: OpenBLAS \([A-Za-z0-9]*\) kernels.*/\1/p'; }
if [ "$(OPENBLAS_CORETYPE=Prescott core_of)" != Prescott ]; then
  echo "FAIL info: OPENBLAS_CORETYPE=Prescott not kept ($(OPENBLAS_CORETYPE=Prescott core_of))"; fail=1
elif grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo &&
     ! (unset OPENBLAS_CORETYPE; core_of) | grep -qxE "Haswell|SkylakeX|CooperLake|SapphireRapids|Zen"; then
  echo "FAIL info: an AVX2 CPU runs OpenBLAS core '$(unset OPENBLAS_CORETYPE; core_of)'"; fail=1
else
  echo "ok   OpenBLAS core: $(unset OPENBLAS_CORETYPE; core_of) (OPENBLAS_CORETYPE kept when set)"
fi
exit $fail
