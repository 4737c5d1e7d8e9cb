#!/usr/bin/python3
"""Generates DbFirst's offline model: a tiny deterministic CLIP-shaped model (Immich layout) in this folder,
which the runner falls back to when no real CLIP model is configured and which the tests use.

Not semantic: an image embeds as a soft vote of its mean colour among eight colour prototypes, and a text
embeds as the sum of its words' rows, where the eight colour words own the prototypes' directions. So
"a red photo" lands next to a red image, which is all an offline demo and the end-to-end tests need.

Needs Debian's python3-onnx and python3-numpy, and CLIP's vocab.json + merges.txt (default ../shared/clip
beside the repository) to carve out a small tokenizer that gives the real CLIP ids for the words it knows.
Run: /usr/bin/python3 models/tiny-clip/generate.py [--shared DIR]

A second model that disagrees with this one (for model-switch tests) comes from the same encoders followed by a
fixed random projection to another dimension, with each colour word pointing at the next colour's prototype
(so "red" finds what this model calls orange). tests/models/tiny-clip-384 was made with:
/usr/bin/python3 models/tiny-clip/generate.py --out tests/models/tiny-clip-384 --name tiny-clip-test-384 \
    --dim 384 --projection-seed 384 --rotate-colours 1
"""
import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
DIM = 512
VOCAB_SIZE = 49408
START, END = 49406, 49407
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]
COLOURS = {
    "red": (1.0, 0.0, 0.0), "green": (0.0, 0.8, 0.0), "blue": (0.0, 0.0, 1.0), "yellow": (1.0, 1.0, 0.0),
    "white": (1.0, 1.0, 1.0), "black": (0.0, 0.0, 0.0), "orange": (1.0, 0.5, 0.0), "purple": (0.5, 0.0, 0.5),
}
# Words the carved tokenizer keeps whole (CLIP ids); anything else falls apart into byte tokens.
EXTRA_WORDS = ["a", "an", "the", "of", "photo", "picture", "image", "with", "and", "in", "on", "dog", "cat", "car"]
NOISE_BUCKETS = 32
OPSET = 13


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def bpe(word, ranks):
    """OpenAI SimpleTokenizer.bpe; returns the tokens and the merges it applied."""
    parts = list(word[:-1]) + [word[-1] + "</w>"]
    used = []
    while len(parts) > 1:
        pairs = {(parts[i], parts[i + 1]) for i in range(len(parts) - 1)}
        best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if best not in ranks:
            break
        used.append(best)
        merged, i = [], 0
        while i < len(parts):
            if i < len(parts) - 1 and (parts[i], parts[i + 1]) == best:
                merged.append(parts[i] + parts[i + 1])
                i += 2
            else:
                merged.append(parts[i])
                i += 1
        parts = merged
    return parts, used


def carve_tokenizer(shared):
    vocab = json.load(open(os.path.join(shared, "vocab.json"), encoding="utf-8"))
    lines = open(os.path.join(shared, "merges.txt"), encoding="utf-8").read().split("\n")
    merges = [tuple(l.split()) for l in lines[1:] if l.strip()]
    ranks = {m: i for i, m in enumerate(merges)}
    byte_chars = bytes_to_unicode().values()
    keep = {c: vocab[c] for c in byte_chars}
    keep.update({c + "</w>": vocab[c + "</w>"] for c in byte_chars})
    keep["<|startoftext|>"] = START
    keep["<|endoftext|>"] = END
    used = set()
    word_ids = {}
    for word in list(COLOURS) + EXTRA_WORDS:
        tokens, applied = bpe(word, ranks)
        assert len(tokens) == 1, (word, tokens)
        used.update(applied)
        for a, b in applied:
            keep[a + b] = vocab[a + b]
        word_ids[word] = vocab[tokens[0]]
    kept_merges = sorted(used, key=lambda m: ranks[m])
    return keep, kept_merges, word_ids


def orthonormal(rows, dim, rng):
    q, _ = np.linalg.qr(rng.standard_normal((dim, rows)))
    return q.T.astype(np.float32)


def project(graph, projection):
    """Appends embedding @ projection: the same encoder seen through a fixed random map to another dimension."""
    graph.output[0].name = "unprojected"
    for node in graph.node:
        node.output[:] = ["unprojected" if o == "embedding" else o for o in node.output]
    graph.initializer.append(numpy_helper.from_array(projection, "projection"))
    graph.node.append(helper.make_node("MatMul", ["unprojected", "projection"], ["embedding"]))
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", projection.shape[1]]))
    return graph


def build_visual(prototypes, proto_colours, mix):
    rgb_c = np.array(proto_colours, dtype=np.float32)
    inits = [
        numpy_helper.from_array(np.array(STD, np.float32), "std"),
        numpy_helper.from_array(np.array(MEAN, np.float32), "mean"),
        numpy_helper.from_array(rgb_c.T.copy(), "colours_t"),
        numpy_helper.from_array((rgb_c ** 2).sum(axis=1).astype(np.float32), "colours_sq"),
        numpy_helper.from_array(np.array(-2.0, np.float32), "minus_two"),
        numpy_helper.from_array(np.array(-12.0, np.float32), "sharpness"),
        numpy_helper.from_array(np.array(0.5, np.float32), "half"),
        numpy_helper.from_array(prototypes, "prototypes"),
        numpy_helper.from_array(mix, "mix"),
    ]
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["norm_mean"], axes=[2, 3], keepdims=0),
        helper.make_node("Mul", ["norm_mean", "std"], ["scaled"]),
        helper.make_node("Add", ["scaled", "mean"], ["rgb"]),
        helper.make_node("ReduceSumSquare", ["rgb"], ["rgb_sq"], axes=[1], keepdims=1),
        helper.make_node("MatMul", ["rgb", "colours_t"], ["dots"]),
        helper.make_node("Mul", ["dots", "minus_two"], ["dots2"]),
        helper.make_node("Add", ["dots2", "rgb_sq"], ["partial"]),
        helper.make_node("Add", ["partial", "colours_sq"], ["dist2"]),
        helper.make_node("Mul", ["dist2", "sharpness"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["votes"], axis=1),
        helper.make_node("MatMul", ["votes", "prototypes"], ["colour_part"]),
        helper.make_node("Sub", ["rgb", "half"], ["centred"]),
        helper.make_node("MatMul", ["centred", "mix"], ["detail"]),
        helper.make_node("Add", ["colour_part", "detail"], ["embedding"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny-clip-visual",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", DIM])],
        inits)
    return graph


def build_textual(word_index, rows):
    inits = [
        numpy_helper.from_array(word_index, "word_index"),
        numpy_helper.from_array(rows, "rows"),
        numpy_helper.from_array(np.array([1], np.int64), "sequence_axis"),
    ]
    nodes = [
        helper.make_node("Cast", ["text"], ["ids64"], to=TensorProto.INT64),
        helper.make_node("Gather", ["word_index", "ids64"], ["slots8"], axis=0),
        helper.make_node("Cast", ["slots8"], ["slots"], to=TensorProto.INT64),
        helper.make_node("Gather", ["rows", "slots"], ["token_vectors"], axis=0),
        helper.make_node("ReduceSum", ["token_vectors", "sequence_axis"], ["embedding"], keepdims=0),
    ]
    # The sequence axis is dynamic: padding (id 0) and the end token map to a zero row, so running
    # only up to the end token gives the same result, as with CLIP's causal mask.
    return helper.make_graph(
        nodes, "tiny-clip-textual",
        [helper.make_tensor_value_info("text", TensorProto.INT32, ["batch", "sequence"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", DIM])],
        inits)


def save(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="dbfirst-tiny-clip")
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(model, path)


def main():
    parser = argparse.ArgumentParser()
    default_shared = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "clip"))
    parser.add_argument("--shared", default=default_shared, help="folder with CLIP's vocab.json and merges.txt")
    parser.add_argument("--out", default=HERE, help="folder to write the model into")
    parser.add_argument("--name", default="tiny-clip-test", help="model_name in config.json")
    parser.add_argument("--dim", type=int, default=DIM, help="embedding dimension after the projection")
    parser.add_argument("--projection-seed", type=int, help="seed of the fixed random projection (default: none)")
    parser.add_argument("--rotate-colours", type=int, default=0, help="each colour word points at the colour N further on")
    args = parser.parse_args()
    if args.dim != DIM and args.projection_seed is None:
        parser.error("--dim other than 512 needs --projection-seed")
    out = os.path.abspath(args.out)

    rng = np.random.default_rng(20240501)
    names = list(COLOURS)
    basis = orthonormal(len(names) + NOISE_BUCKETS, DIM, rng)
    prototypes = basis[: len(names)]
    mix = (0.05 * rng.standard_normal((3, DIM))).astype(np.float32)

    keep, merges, word_ids = carve_tokenizer(args.shared)

    # Slot 0: silent (padding, end). Slots 1..8: colour words. The rest: low-weight buckets for other ids.
    word_index = np.zeros(VOCAB_SIZE, dtype=np.uint8)
    ids = np.arange(VOCAB_SIZE, dtype=np.int64)
    word_index[:] = (1 + len(names) + (ids * 2654435761 % NOISE_BUCKETS)).astype(np.uint8)
    word_index[[0, END]] = 0
    # The start token gets a faint row of its own so that even empty text has a direction to normalise.
    word_index[START] = 1 + len(names)
    for i, name in enumerate(names):
        word_index[word_ids[name]] = 1 + (i + args.rotate_colours) % len(names)
    rows = np.zeros((1 + len(names) + NOISE_BUCKETS, DIM), dtype=np.float32)
    rows[1 : 1 + len(names)] = 4.0 * prototypes
    rows[1 + len(names) :] = 0.3 * basis[len(names) :]

    visual = build_visual(prototypes, [COLOURS[n] for n in names], mix)
    textual = build_textual(word_index, rows)
    if args.projection_seed is not None:
        # Gaussian entries scaled by 1/sqrt(dim): cosine distances roughly survive, rankings do not exactly.
        projection = (np.random.default_rng(args.projection_seed).standard_normal((DIM, args.dim))
                      / np.sqrt(args.dim)).astype(np.float32)
        visual, textual = project(visual, projection), project(textual, projection)
    save(visual, os.path.join(out, "visual", "model.onnx"))
    save(textual, os.path.join(out, "textual", "model.onnx"))

    with open(os.path.join(out, "textual", "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(dict(sorted(keep.items(), key=lambda kv: kv[1])), f, ensure_ascii=False)
    with open(os.path.join(out, "textual", "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2 (carved from CLIP's merges for DbFirst's tiny test model)\n")
        f.writelines(f"{a} {b}\n" for a, b in merges)
    config = {
        "model_name": args.name,
        "dbfirst_semantic": False,
        "note": "Deterministic colour toy for offline runs and tests; embeddings are NOT semantic.",
        "embed_dim": args.dim,
        "vision_cfg": {"image_size": 224},
        "text_cfg": {"context_length": 77, "vocab_size": VOCAB_SIZE},
    }
    with open(os.path.join(out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    preprocess = {"size": [224, 224], "mode": "RGB", "mean": MEAN, "std": STD,
                  "interpolation": "bicubic", "resize_mode": "shortest", "fill_color": 0}
    with open(os.path.join(out, "visual", "preprocess_cfg.json"), "w", encoding="utf-8") as f:
        json.dump(preprocess, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
