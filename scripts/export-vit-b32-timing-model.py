#!/usr/bin/python3
"""Exports a random-weight, ViT-B/32-shaped CLIP pair to ONNX for TIMING ONLY (embeddings are meaningless).

Same shapes and operator mix as OpenAI's ViT-B/32: image tower 224px, patch 32, width 768, 12 layers,
12 heads; text tower width 512, 12 layers, 8 heads, causal mask, vocab 49408, context 77 (dynamic), both
projected to 512. Written in the Immich layout so `dbfirst bench clip --model DIR` loads it directly.
About 600 MB; never commit it (models/ is git-ignored).

Needs Debian's python3-torch (apt-get install -y python3-torch python3-onnx). Run with /usr/bin/python3:
    /usr/bin/python3 scripts/export-vit-b32-timing-model.py [models/vit-b32-timing] [SEED]
SEED (default 0) draws other random weights and names the model "vit-b32-timing-seedSEED": the registry keys models
on their name, so `dbfirst bench backfill` stages a second model made with another seed (models/vit-b32-timing-b 1).
The tokenizer files come from ../shared/clip when present (copied into the model folder, which is not in git).
"""
import json
import os
import shutil
import sys

import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "models", "vit-b32-timing"))
SEED = int(sys.argv[2]) if len(sys.argv) > 2 else 0
# Seed 0 keeps the name the README's earlier "ViT-B/32-shaped" figures were measured under.
NAME = "vit-b32-timing (random weights)" if SEED == 0 else f"vit-b32-timing-seed{SEED} (random weights)"


class Attention(nn.Module):
    """Plain multi-head attention; nn.MultiheadAttention's fused eval path does not export to ONNX on torch 1.13."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, width * 3)
        self.out = nn.Linear(width, width)

    def forward(self, x, mask=None):
        b, n, w = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-2, -1) / (w // self.heads) ** 0.5
        if mask is not None:
            scores = scores + mask
        return self.out((scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, w))


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, width * 4), nn.GELU(), nn.Linear(width * 4, width))

    def forward(self, x, mask=None):
        h = self.ln_1(x)
        x = x + self.attn(h, mask)
        return x + self.mlp(self.ln_2(x))


class Visual(nn.Module):
    def __init__(self, width=768, layers=12, heads=12, patch=32, size=224, dim=512):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, patch, patch, bias=False)
        self.cls = nn.Parameter(torch.randn(1, 1, width) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, (size // patch) ** 2 + 1, width) * 0.01)
        self.ln_pre = nn.LayerNorm(width)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Linear(width, dim, bias=False)

    def forward(self, image):
        x = self.conv1(image).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        x = self.ln_pre(x)
        for block in self.blocks:
            x = block(x)
        return self.proj(self.ln_post(x[:, 0]))


class Textual(nn.Module):
    def __init__(self, width=512, layers=12, heads=8, vocab=49408, context=77, dim=512):
        super().__init__()
        self.token = nn.Embedding(vocab, width)
        self.pos = nn.Parameter(torch.randn(context, width) * 0.01)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln_final = nn.LayerNorm(width)
        self.proj = nn.Linear(width, dim, bias=False)

    def forward(self, text):
        n = text.shape[1]
        x = self.token(text) + self.pos[:n]
        mask = torch.full((n, n), float("-inf")).triu(1)
        for block in self.blocks:
            x = block(x, mask)
        x = self.ln_final(x)
        # CLIP pools at the end token, which has the highest id.
        pooled = x[torch.arange(x.shape[0]), text.argmax(dim=-1)]
        return self.proj(pooled)


def main():
    torch.manual_seed(SEED)
    os.makedirs(os.path.join(OUT, "visual"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "textual"), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(Visual().eval(), torch.randn(1, 3, 224, 224), os.path.join(OUT, "visual", "model.onnx"),
                          input_names=["image"], output_names=["embedding"],
                          dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=17)
        ids = torch.zeros(1, 77, dtype=torch.int64)
        ids[0, :3] = torch.tensor([49406, 320, 49407])
        torch.onnx.export(Textual().eval(), ids, os.path.join(OUT, "textual", "model.onnx"),
                          input_names=["text"], output_names=["embedding"],
                          dynamic_axes={"text": {0: "batch", 1: "sequence"}, "embedding": {0: "batch"}}, opset_version=17)
    json.dump({"model_name": NAME, "embed_dim": 512},
              open(os.path.join(OUT, "config.json"), "w"), indent=2)
    shared = os.path.join(os.path.dirname(ROOT), "shared", "clip")
    for name in ("vocab.json", "merges.txt"):
        if os.path.exists(os.path.join(shared, name)):
            shutil.copy(os.path.join(shared, name), os.path.join(OUT, "textual", name))
    print(f"wrote {OUT}; time it with: dbfirst bench clip --model {OUT}")


if __name__ == "__main__":
    main()
