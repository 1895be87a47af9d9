"""A character-level LSTM language model (the notes' RNN section), printing samples as it learns.

    python examples/char_rnn.py                    # on the Zen of Python, which ships with Python
    python examples/char_rnn.py --text FILE        # on any text file
    python examples/char_rnn.py --quick

Each step takes a batch of random windows of the text, feeds characters (as embeddings) through an
LSTM and a linear layer to scores for the next character, and minimises the cross-entropy with
Adam and gradient clipping. Every --sample-every steps it samples text, one character at a time,
from the softmax of the scores (with a temperature).
"""
import argparse
import codecs
import contextlib
import io
import math
import os

# NOTE: every matmul here is small (a batch of 32 by 128 hidden units, one time step at a time), and
# OpenBLAS's threads cost more than they save on them: with 2 threads on a busy 2-core machine a step
# took ~1.1 s, with 1 thread ~0.07 s. Set before numpy loads; an explicit OPENBLAS_NUM_THREADS wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402  (after the thread setting above)

import minigrad as mg  # noqa: E402
import minigrad.nn as nn  # noqa: E402
import minigrad.optim as optim  # noqa: E402
from minigrad.nn.rnn import LSTM  # noqa: E402


def zen_of_python():
    """The text of ``import this`` (stored ROT13-encoded in the stdlib module), without printing it."""
    with contextlib.redirect_stdout(io.StringIO()):
        import this
    return codecs.decode(this.s, "rot13")


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> Linear: characters (N, T) to next-character scores (N, T, V)."""

    def __init__(self, vocab, hidden=128, embed=32, layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, idx, state=None):
        out, state = self.lstm(self.embed(idx), state)
        return self.head(out), state


def sample(model, start, length, stoi, itos, temperature=0.8, seed=0):
    """Generate ``length`` characters after the prompt ``start``."""
    rng = np.random.default_rng(seed)
    model.eval()
    out, state = list(start), None
    x = mg.tensor(np.array([[stoi[c] for c in start]]))
    with mg.no_grad():
        for _ in range(length):
            scores, state = model(x, state)
            p = (scores[0, -1] / temperature).softmax(-1).numpy().astype(np.float64)
            nxt = int(rng.choice(len(p), p=p / p.sum()))
            out.append(itos[nxt])
            x = mg.tensor(np.array([[nxt]]))
    model.train()
    return "".join(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--text", help="a text file to learn (default: the Zen of Python)")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--seq-len", type=int, default=25)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--sample-every", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="out")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.hidden, args.seq_len, args.batch_size, args.sample_every = 40, 32, 12, 16, 20
    if args.text:
        with open(args.text, encoding="utf-8") as f:
            text = f.read()
    else:
        text = zen_of_python()
    chars = sorted(set(text))
    stoi, itos = {c: i for i, c in enumerate(chars)}, dict(enumerate(chars))
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    if len(data) <= args.seq_len + 1:
        raise SystemExit(f"the text has {len(data)} characters; need more than --seq-len + 1 = {args.seq_len + 1}")
    print(f"text: {len(text)} characters, {len(chars)} distinct")
    mg.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = CharLSTM(len(chars), hidden=args.hidden)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    offsets = np.arange(args.seq_len + 1)
    losses, samples = [], []
    for step in range(1, args.steps + 1):
        starts = rng.integers(0, len(data) - args.seq_len - 1, size=args.batch_size)
        window = data[starts[:, None] + offsets]                        # (N, T+1)
        x, y = mg.tensor(window[:, :-1]), mg.tensor(window[:, 1:])
        scores, _ = model(x)                                            # (N, T, V)
        loss = nn.functional.cross_entropy(scores.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)              # LSTMs still like a clip
        opt.step()
        losses.append(loss.item())
        if step % args.sample_every == 0 or step == args.steps:
            text_out = sample(model, text[0], 120 if not args.quick else 40, stoi, itos, seed=step)
            samples.append(text_out)
            print(f"--- step {step}: loss {np.mean(losses[-args.sample_every:]):.3f} "
                  f"(uniform guess: {math.log(len(chars)):.3f})\n{text_out}\n")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "char_rnn_samples.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n\n".join(samples) + "\n")
    return {"samples_file": path, "first_loss": losses[0], "final_loss": float(np.mean(losses[-10:])), "chance_loss": math.log(len(chars)),
            "samples": samples}


if __name__ == "__main__":
    main()
