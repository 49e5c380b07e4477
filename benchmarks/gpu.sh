#!/usr/bin/env bash
# Every GPU figure of docs/benchmark.md, in one run of a few minutes: the
# training step against the anchors (eager, then compiled), the model
# alone, and tools/test.py's path with and without --gpu-decode, whose
# top-1 is compared with the CPU path's on real images.
#
#   bash benchmarks/gpu.sh [SAMPLE]      # on the GPU machine
#   TINY=1 DEV=cpu bash benchmarks/gpu.sh SAMPLE   # every command, tiny sizes
#
# SAMPLE: an ImageNet-layout folder of real images (meta/val.txt, val/);
# without it the top-1 check is left out. The JPEGs the timings read are
# generated, so that nothing else has to travel with the machine.
set -u
export PYTHONUNBUFFERED=1
DEV=${DEV:-cuda}
SAMPLE=${1:-}
CONFIG=configs/inception_v3_8xb32_in1k.py
B="python3 benchmarks/benchmark.py $CONFIG"
if [ -n "${TINY:-}" ]; then
    TIMING="--warmup 1 --runs 1 --shape 80"; TRAIN_BATCH=2; MODEL_BATCH=2
    PER_CLASS=2; REPEAT=2; E2E_BATCH=4; E2E_RUNS=1
else
    TIMING="--warmup 5 --runs 10"; TRAIN_BATCH=128; MODEL_BATCH=256
    PER_CLASS=100; REPEAT=10; E2E_BATCH=256; E2E_RUNS=2
fi
D="--device $DEV $TIMING"

python3 -c "import torch, torchvision, timm, mmengine, mmcv, mmpretrain
print('torch', torch.__version__, 'torchvision', torchvision.__version__,
      'timm', timm.__version__, 'mmengine', mmengine.__version__,
      'mmcv', mmcv.__version__, 'mmpretrain', mmpretrain.__version__)" || exit 1

# The training step, bf16, against the anchors; then fp32 (TF32).
$B --mode train $D --batch-size $TRAIN_BATCH --precision bf16 --compare
$B --mode train $D --batch-size $TRAIN_BATCH --compare
# The model alone, folded BatchNorm, bf16.
$B $D --batch-size $MODEL_BATCH --fold-bn --precision bf16 --compare \
    --cudnn-benchmark

# tools/test.py's path on generated photo-sized JPEGs, each file under
# REPEAT names (hard links): PER_CLASS x 10 x REPEAT decodes, one copy on
# disk.
PHOTOS=$(mktemp -d)
python3 tools/dataset_converters/make_synthetic_imagenet.py $PHOTOS \
    --train-per-class $PER_CLASS --val-per-class $PER_CLASS --imagenet-sizes
python3 - $PHOTOS $REPEAT <<'PY'
import os
import sys
root, repeat = sys.argv[1], int(sys.argv[2])
words = open(f'{root}/meta/val.txt').read().split()
pairs = list(zip(words[::2], words[1::2]))
with open(f'{root}/meta/val.txt', 'w') as f:
    for copy in range(repeat):
        for name, label in pairs:
            linked = name.replace('.JPEG', f'_{copy}.JPEG') if copy else name
            if copy:
                os.link(f'{root}/val/{name}', f'{root}/val/{linked}')
            f.write(f'{linked} {label}\n')
PY
python3 benchmarks/make_checkpoint.py $PHOTOS $PHOTOS/ckpt.pth
for DECODE in "" "--gpu-decode"; do
    $B $PHOTOS/ckpt.pth --mode e2e --device $DEV --data-root $PHOTOS \
        --fold-bn --precision bf16 --batch-size $E2E_BATCH --warmup 2 \
        --runs $E2E_RUNS $DECODE
done
$B --mode loader --device $DEV --data-root $PHOTOS --max-images 1000 \
    --batch-size 128 --warmup 1 --runs $E2E_RUNS

# The same top-1 with --gpu-decode as without, on real images.
if [ -n "$SAMPLE" ]; then
    for DECODE in cpu gpu; do
        FLAG=$([ $DECODE = gpu ] && echo --gpu-decode)
        python3 tools/test.py $CONFIG $PHOTOS/ckpt.pth --amp $FLAG \
            --work-dir $PHOTOS/test_$DECODE --out $PHOTOS/$DECODE.pkl \
            --cfg-options test_dataloader.dataset.data_root=$SAMPLE \
            > $PHOTOS/test_$DECODE.log 2>&1 || tail -3 $PHOTOS/test_$DECODE.log
    done
    python3 - $PHOTOS <<'PY'
import pickle
import sys
cpu, gpu = (pickle.load(open(f'{sys.argv[1]}/{name}.pkl', 'rb'))
            for name in ('cpu', 'gpu'))
same = sum(int(a['pred_label']) == int(b['pred_label'])
           for a, b in zip(cpu, gpu))
largest = max(float((a['pred_score'] - b['pred_score']).abs().max())
              for a, b in zip(cpu, gpu))
print(f'same top-1 with --gpu-decode: {same} / {len(cpu)}; largest score '
      f'difference {largest:.3g}')
PY
fi

# Compiled last: each compile takes minutes.
$B --mode train $D --batch-size $TRAIN_BATCH --precision bf16 --compile
$B $D --batch-size $MODEL_BATCH --fold-bn --precision bf16 \
    --cudnn-benchmark --compile
rm -rf $PHOTOS
