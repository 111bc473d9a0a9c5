"""The PyTorch peer of trainer/train.ts: the same byte-level GPT (RMS norm without scale,
separate q/k/v, squared-ReLU MLP, AdamW with decay on matrices, warm-up / flat / warm-down by
the fraction of a wall-clock budget), trained on the same bytes, so that tokens/s and val_bpb
can be compared side by side on one machine in one sitting.

    python3 bench/peer/gpt.py --data train.bin --val val.bin --budget 300 [--device cuda]

`npm run bench:trainer -- --export-data <dir>` writes train.bin and val.bin (the harness's
Brown split); `npm run bench:trainer -- --backends wasm --budget 30 --peer python3` runs this
script right after the harness's run and prints the ratio. Shapes default to the default
train.ts's CPU model; pass --layers/--width/... (bench:trainer passes the candidate's
configFor) to match a candidate that sizes itself per class. Prints one JSON line.

On a shared CPU, run it with OMP_WAIT_POLICY=passive (bench:trainer does): OpenMP's spinning
threads ran ~10x slower at load 4 on a 2-core machine. Debian 12's python3-torch (1.13, with
libopenblas0-pthread for its BLAS: without it, reference BLAS) has no
scaled_dot_product_attention; `attend` writes out the same math there.
"""
import argparse, json, math, time

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--data', required=True)
p.add_argument('--val', required=True)
p.add_argument('--budget', type=float, default=300)
p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
p.add_argument('--context', type=int, default=64)
p.add_argument('--batch', type=int, default=32)
p.add_argument('--layers', type=int, default=2)
p.add_argument('--width', type=int, default=64)
p.add_argument('--heads', type=int, default=4)
p.add_argument('--lr', type=float, default=3e-3)
p.add_argument('--threads', type=int, default=0)
p.add_argument('--eval-bytes', type=int, default=200_000)
a = p.parse_args()
if a.threads:
    torch.set_num_threads(a.threads)
torch.manual_seed(1337)
dev = torch.device(a.device)
train = torch.frombuffer(bytearray(open(a.data, 'rb').read()), dtype=torch.uint8).long()
val = torch.frombuffer(bytearray(open(a.val, 'rb').read()), dtype=torch.uint8).long()[: a.eval_bytes + 1]
T, B, C, L, H = a.context, a.batch, a.width, a.layers, a.heads
D = C // H


def attend(q, k, v):
    """Causal attention: PyTorch's fused kernel where it has one (2.0 on), else the same math
    written out (Debian 12's python3-torch is 1.13)."""
    if hasattr(F, 'scaled_dot_product_attention'):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    t = q.shape[-2]
    mask = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1)
    s = (q @ k.transpose(-2, -1)) * (q.shape[-1] ** -0.5)
    return s.masked_fill(mask, float('-inf')).softmax(-1) @ v


def rms(x):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)


class GPT(torch.nn.Module):
    def __init__(self):
        super().__init__()
        std, proj = 0.02, 0.02 / math.sqrt(2 * L)
        P = lambda *s, sd=std: torch.nn.Parameter(torch.randn(*s) * sd)
        self.wte, self.wpe, self.head = P(256, C), P(T, C), P(C, 256)
        self.q = torch.nn.ParameterList([P(C, C) for _ in range(L)])
        self.k = torch.nn.ParameterList([P(C, C) for _ in range(L)])
        self.v = torch.nn.ParameterList([P(C, C) for _ in range(L)])
        self.o = torch.nn.ParameterList([P(C, C, sd=proj) for _ in range(L)])
        self.w1 = torch.nn.ParameterList([P(C, 4 * C) for _ in range(L)])
        self.w2 = torch.nn.ParameterList([P(4 * C, C, sd=proj) for _ in range(L)])

    def forward(self, x):
        n, t = x.shape
        h = self.wte[x] + self.wpe[:t]
        for l in range(L):
            z = rms(h)
            split = lambda w: (z @ w).view(n, t, H, D).transpose(1, 2)
            y = attend(split(self.q[l]), split(self.k[l]), split(self.v[l]))
            h = h + y.transpose(1, 2).reshape(n, t, C) @ self.o[l]
            h = h + F.relu(rms(h) @ self.w1[l]).square() @ self.w2[l]
        return rms(h) @ self.head


model = GPT().to(dev)
params = sum(p.numel() for p in model.parameters())
decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and n != 'wpe']
rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and n != 'wpe')]
opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01}, {'params': rest, 'weight_decay': 0.0}], lr=a.lr, betas=(0.9, 0.99), eps=1e-8)


def lr_at(progress):
    if progress < 0.02:
        return a.lr * (progress + 1e-3) / (0.02 + 1e-3)
    if progress <= 0.6:
        return a.lr
    t = min(1.0, (progress - 0.6) / 0.4)
    return a.lr * (1 - t + t * 0.05)


def sync():
    if dev.type == 'cuda':
        torch.cuda.synchronize()


steps, t0 = 0, time.perf_counter()
while True:
    sync()
    elapsed = time.perf_counter() - t0
    if elapsed >= a.budget:
        break
    for g in opt.param_groups:
        g['lr'] = lr_at(elapsed / a.budget)
    ix = torch.randint(0, len(train) - T - 1, (B,))
    x = torch.stack([train[i : i + T] for i in ix]).to(dev)
    y = torch.stack([train[i + 1 : i + T + 1] for i in ix]).to(dev)
    loss = F.cross_entropy(model(x).view(-1, 256), y.view(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    steps += 1
sync()
train_s = time.perf_counter() - t0

# val_bpb on non-overlapping windows of the first eval bytes, as the harness's dev split does
model.eval()
nll, count = 0.0, 0
with torch.no_grad():
    rows = (len(val) - 1) // T
    for r in range(0, rows, 256):
        idx = torch.arange(r, min(rows, r + 256)) * T
        x = torch.stack([val[i : i + T] for i in idx]).to(dev)
        y = torch.stack([val[i + 1 : i + T + 1] for i in idx]).to(dev)
        nll += F.cross_entropy(model(x).view(-1, 256), y.view(-1), reduction='sum').item()
        count += y.numel()
print(json.dumps({
    'peer': 'pytorch', 'torch': torch.__version__, 'device': torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f'cpu x{torch.get_num_threads()}',
    'params': params, 'steps': steps, 'train_seconds': round(train_s, 2), 'tokens_per_second': round(steps * B * T / train_s),
    'val_bpb': round(nll / count / math.log(2), 4), 'eval_bytes': count,
}))
