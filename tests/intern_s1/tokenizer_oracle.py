"""Reference-mode oracle for the Intern-S1 dynamic tokenizer, written by us from the spec (§6), deliberately naive.

It follows the documented algorithm step by step the way the public reference does it — Python GPT-2 BPE with an
unbounded per-word cache, the transformers added-token trie, the SMILES regex over every text piece, RDKit on every
candidate (uncached), SentencePiece called twice per span, ids from a stack walk over the token strings — and shares
no code with ``intern_s1.tokenization_intern_s1``. Tests use it as the correctness peer; ``benchmarks/bench_tokenizer.py``
uses it as the speed peer ("Peer A" of performance.md B1).

It also holds the seeded mixed science corpus both use.
"""

from __future__ import annotations

import json
import os
import random
import unicodedata

import regex
import sentencepiece as spm
from transformers.tokenization_python import PythonBackend


PRETOKENIZE = regex.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
TWO_LETTER = (  # noqa: SIM905
    "Ac Ag Al Am Ar As At Au Ba Be Bh Bi Bk Br Ca Cd Ce Cf Cl Cm Cn Co Cr Cs Cu Db Ds Dy Er Es Eu Fe Fl Fm Fr Ga Gd Ge "
    "He Hf Hg Ho Hs In Ir Kr La Li Lr Lu Lv Mc Md Mg Mn Mo Mt Na Nb Nd Ne Nh Ni No Np Og Os Pa Pb Pd Pm Po Pr Pt Pu Ra "
    "Rb Re Rf Rg Rh Rn Ru Sb Sc Se Sg Si Sm Sn Sr Ta Tb Tc Te Th Ti Tl Tm Ts Xe Yb Zn Zr"
).split()
ONE_LETTER = "B C F H I K N O P S U V W Y b c n o p s".split()  # noqa: SIM905
_ELEMENTS = "|".join(sorted(TWO_LETTER + ONE_LETTER, key=lambda s: (-len(s), s)))
SMILES_REGEX = regex.compile(
    r"((?![:.=])(?>\[[^\]]+\]|" + _ELEMENTS + r"|[\(\)\.=\-#@\d\$\%\*:\+\-\/\\]){10,}(?<![:.=]))"
)
FASTA_REGEX = regex.compile(r"([A-Z]{27,})")

BEGIN = {
    "<SMILES>": "SMILES",
    "<SELFIES>": "SMILES",
    "<IUPAC>": "IUPAC",
    "<FASTA>": "FASTA",
    "<SMILES_AUTO_DETECT>": "SMILES",
    "<FASTA_AUTO_DETECT>": "FASTA",
}
END = {
    "</SMILES>": "SMILES",
    "</SELFIES>": "SMILES",
    "</IUPAC>": "IUPAC",
    "</FASTA>": "FASTA",
    "</SMILES_AUTO_DETECT>": "SMILES",
    "</FASTA_AUTO_DETECT>": "FASTA",
}
AUTO = {"<SMILES_AUTO_DETECT>", "</SMILES_AUTO_DETECT>", "<FASTA_AUTO_DETECT>", "</FASTA_AUTO_DETECT>"}
EXPLICIT_BEGIN = {"<SMILES>", "<SELFIES>", "<IUPAC>", "<FASTA>"}
EXPLICIT_END = {"</SMILES>", "</SELFIES>", "</IUPAC>", "</FASTA>"}
PROTECT = ("<MOLFORMULA>", "</MOLFORMULA>")
DEFAULT_OFFSETS = {"SMILES": 151669, "IUPAC": 151929, "FASTA": 152443}


def byte_alphabet() -> dict[int, str]:
    keep = [*range(33, 127), *range(161, 173), *range(174, 256)]
    chars = keep[:]
    n = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return dict(zip(keep, map(chr, chars)))


def rdkit_valid(candidate: str) -> bool:
    from rdkit import Chem, rdBase

    with rdBase.BlockLogs():
        return Chem.MolFromSmiles(candidate) is not None


class OracleTokenizer(PythonBackend):
    """Spec §6 in the most literal form. Slow on purpose; never used by the package."""

    vocab_files_names = {
        "vocab_file": "vocab.json",
        "merges_file": "merges.txt",
        "sp_model_SMILES": "tokenizer_SMILES.model",
        "sp_model_IUPAC": "tokenizer_IUPAC.model",
        "sp_model_FASTA": "tokenizer_FASTA.model",
    }
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file,
        merges_file,
        sp_model_SMILES=None,
        sp_model_IUPAC=None,
        sp_model_FASTA=None,
        sub_vocab_offsets=None,
        errors="replace",
        unk_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        **kwargs,
    ):
        with open(vocab_file, encoding="utf-8") as f:
            self.encoder = json.load(f)
        self.decoder = {v: k for k, v in self.encoder.items()}
        with open(merges_file, encoding="utf-8") as f:
            lines = f.read().split("\n")
        if lines and lines[0].startswith("#version:"):
            lines = lines[1:]
        self.bpe_ranks = {tuple(line.split()): i for i, line in enumerate(x for x in lines if x)}
        self.byte_encoder = byte_alphabet()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}
        self.cache = {}
        self.errors = errors
        folder = os.path.dirname(vocab_file)
        given = {"SMILES": sp_model_SMILES, "IUPAC": sp_model_IUPAC, "FASTA": sp_model_FASTA}
        self.sp = {
            k: spm.SentencePieceProcessor(model_file=given[k] or os.path.join(folder, f"tokenizer_{k}.model"))
            for k in given
        }
        self.offsets = {**DEFAULT_OFFSETS, **(sub_vocab_offsets or {})}
        super().__init__(
            errors=errors,
            unk_token=unk_token,
            eos_token=eos_token,
            pad_token=pad_token,
            bos_token=bos_token,
            special_tokens_pattern="none",
            **kwargs,
        )
        for marker in PROTECT:
            self.tokens_trie.add(marker)

    @property
    def vocab_size(self):
        return len(self.encoder) + sum(sp.get_piece_size() for sp in self.sp.values())

    def get_vocab(self):
        vocab = dict(self.encoder)
        for name, sp in self.sp.items():
            for i in range(sp.get_piece_size()):
                vocab[f"<|{name}_{sp.id_to_piece(i)}|>"] = i + self.offsets[name]
        vocab.update(self._added_tokens_encoder)
        return vocab

    # --- GPT-2 BPE -------------------------------------------------------------------------------------------
    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token)
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if best not in self.bpe_ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = tuple(merged)
        self.cache[token] = list(word)
        return self.cache[token]

    def _tokenize(self, text, **kwargs):
        text = text.replace("▁", " ")
        out = []
        for word in PRETOKENIZE.findall(text):
            out.extend(self.bpe("".join(self.byte_encoder[b] for b in word.encode("utf-8"))))
        return out

    # --- auto-detection ----------------------------------------------------------------------------------------
    @staticmethod
    def _re_split(text, pattern, begin, end, min_length, legit, truncation):
        out, last = [], 0
        for m in pattern.finditer(text):
            cand = m.group(1)
            if len(cand) < min_length or not legit(cand):
                continue
            s, e = m.span(1)
            if not truncation:
                if s > 0 and text[s - 1].encode("utf-8").isalpha():
                    continue
                if e < len(text) and text[e].encode("utf-8").isalpha():
                    continue
            out += [text[last:s], begin, cand, end]
            last = e
        out.append(text[last:])
        return [x for x in out if x]

    @staticmethod
    def _smiles_legit(cand):
        if sum(1 for c in cand if c.isascii() and c.isalpha()) < 5:
            return False
        return rdkit_valid(cand)

    # --- tokenize ---------------------------------------------------------------------------------------------
    def tokenize(self, text, **kwargs):
        text = unicodedata.normalize("NFC", text)
        split_special = kwargs.pop("split_special_tokens", self.split_special_tokens)
        pieces = [text] if split_special else self._split_added(text)
        specials = set(self._added_tokens_encoder) | set(PROTECT)
        detected, protect = [], 0
        for piece in pieces:
            if not piece:
                continue
            if piece in specials:
                detected.append(piece)
                if piece in EXPLICIT_BEGIN or piece == PROTECT[0]:
                    protect += 1
                elif piece in EXPLICIT_END or piece == PROTECT[1]:
                    protect = max(0, protect - 1)
            elif protect > 0:
                detected.append(piece)
            else:
                parts = self._re_split(
                    piece, SMILES_REGEX, "<SMILES_AUTO_DETECT>", "</SMILES_AUTO_DETECT>", 10, self._smiles_legit, False
                )
                for part in parts:
                    detected += self._re_split(
                        part, FASTA_REGEX, "<FASTA_AUTO_DETECT>", "</FASTA_AUTO_DETECT>", 27, lambda c: True, True
                    )
        tokens, stack = [], []
        for piece in detected:
            if piece in PROTECT:
                tokens += self._tokenize(piece)
            elif piece in BEGIN and (piece in AUTO or piece in self._added_tokens_encoder):
                tokens.append(piece)
                stack.append(BEGIN[piece])
            elif piece in END and (piece in AUTO or piece in self._added_tokens_encoder):
                tokens.append(piece)
                if stack:
                    stack.pop()
            elif piece in self._added_tokens_encoder:
                tokens.append(piece)
            elif stack:
                sp = self.sp[stack[-1]]
                strs, ints = sp.encode(piece, out_type=str), sp.encode(piece, out_type=int)
                for s, i in zip(strs, ints):
                    tokens += self._tokenize(s) if i == 0 else [s]
            else:
                tokens += self._tokenize(piece)
        return tokens

    def _split_added(self, text):
        tokens = self.tokens_trie.split(text)
        for i, token in enumerate(tokens):
            added = self._added_tokens_decoder.get(self._added_tokens_encoder.get(token, -1))
            if added is None:
                continue
            if added.rstrip and i + 1 < len(tokens) and tokens[i + 1]:
                tokens[i + 1] = tokens[i + 1].lstrip()
            if added.lstrip and i > 0 and tokens[i - 1]:
                tokens[i - 1] = tokens[i - 1].rstrip()
            if added.single_word:
                if i > 0 and tokens[i - 1] and tokens[i - 1][-1] != " ":
                    tokens[i - 1] += token
                    tokens[i] = ""
                elif i + 1 < len(tokens) and tokens[i + 1] and tokens[i + 1][0] != " ":
                    tokens[i + 1] = token + tokens[i + 1]
                    tokens[i] = ""
        return tokens

    # --- ids ------------------------------------------------------------------------------------------------------
    def convert_tokens_to_ids(self, tokens):
        if isinstance(tokens, str):
            return self._added_tokens_encoder.get(tokens, self.encoder.get(tokens))
        ids, stack = [], []
        for tok in tokens:
            if tok in AUTO:
                if tok in BEGIN:
                    stack.append(BEGIN[tok])
                elif stack:
                    stack.pop()
                continue
            if tok in BEGIN and tok in self._added_tokens_encoder:
                stack.append(BEGIN[tok])
            elif tok in END and tok in self._added_tokens_encoder and stack:
                stack.pop()
            if tok in self._added_tokens_encoder:
                ids.append(self._added_tokens_encoder[tok])
                continue
            if stack:
                sp = self.sp[stack[-1]]
                sp_id = sp.piece_to_id(tok)
                if sp_id != sp.unk_id():
                    ids.append(sp_id + self.offsets[stack[-1]])
                    continue
            ids.append(self.encoder.get(tok, self.encoder.get("<unk>")))
        return ids

    def _convert_token_to_id(self, token):
        return self.encoder.get(token)

    def _convert_id_to_token(self, index):
        if index in self.decoder:
            return self.decoder[index]
        for name, sp in self.sp.items():
            if 0 <= index - self.offsets[name] < sp.get_piece_size():
                return sp.id_to_piece(index - self.offsets[name])
        return ""

    def convert_tokens_to_string(self, tokens):
        text = "".join(tokens).replace("▁", "Ġ").replace("\n", "Ċ")
        return bytes(self.byte_decoder[c] for c in text).decode("utf-8", errors=self.errors)


# ----------------------------------------------------------------------------------------------------------------
# Seeded mixed science corpus (performance.md B1 workload)
# ----------------------------------------------------------------------------------------------------------------

_WORDS = (  # noqa: SIM905
    "the of and to in is was for on that with as by at from this which are be an or it its molecule compound "
    "protein binding reaction yield solvent catalyst structure analysis sample temperature concentration "
    "activity enzyme residue sequence spectrum peak observed measured synthesis derivative ligand receptor "
    "inhibitor assay kinetics mechanism hydrogen oxygen carbon nitrogen aromatic ring bond chain acid base "
    "salt crystal phase transition energy model data result method figure table value increase decrease"
).split()
_ZH = "分子化合物蛋白质结合反应产率溶剂催化剂结构分析样品温度浓度活性酶残基序列光谱观察测量合成衍生物配体受体抑制剂"
_VALID_SMILES = (
    "CC1=CC=CC=C1C=O",
    "C1=CC=C(C=C1)C=O",
    "CC(=O)OC1=CC=CC=C1C(=O)O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "CC(C)CC1=CC=C(C=C1)C(C)C(=O)O",
    "C1CCC(CC1)NC(=O)C2=CC=CC=C2",
    "OC(=O)CCCCCCCCC=CCCCCCCCC",
    "COC1=CC=C(C=C1)CCN",
    "C[C@H](N)C(=O)O",
    "CCN(CC)CCOC(=O)C1=CC=C(N)C=C1",
    "O=C(O)C1=CC=CN=C1",
)
_INVALID_SMILES = ("CC1=CC=CC=C2C=O", "C1=CC=C(C=C1C=O", "CCCCCXCCCC", "C(C)(C)(C)(C)(C)C")
_IUPAC = (
    "2-methylpropan-1-ol",
    "1,3-dimethylbenzene",
    "(2S)-2-aminopropanoic acid",
    "4-hydroxybenzaldehyde",
    "N-phenylacetamide",
    "2,4,6-trinitrotoluene",
    "ethyl 4-aminobenzoate",
)
_AA = "ACDEFGHIKLMNPQRSTVWY"


def _prose(rng: random.Random, n: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(n)]
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice([".", ",", ";", ":", "!", "?"])


def _protein(rng: random.Random, lo: int, hi: int) -> str:
    return "".join(rng.choice(_AA) for _ in range(rng.randint(lo, hi)))


def corpus_document(rng: random.Random) -> str:
    """One document mixing prose, inline and tagged spans, proteins, formulas, code and edge cases."""
    parts = []
    for _ in range(rng.randint(3, 9)):
        kind = rng.random()
        if kind < 0.30:
            parts.append(_prose(rng, rng.randint(5, 30)))
        elif kind < 0.40:
            parts.append("".join(rng.choice(_ZH) for _ in range(rng.randint(5, 40))) + "。")
        elif kind < 0.52:
            parts.append(f"{_prose(rng, 3)} {rng.choice(_VALID_SMILES + _INVALID_SMILES)} {_prose(rng, 3)}")
        elif kind < 0.58:
            parts.append(f"<SMILES>{rng.choice(_VALID_SMILES)}</SMILES>")
        elif kind < 0.61:
            parts.append("<SELFIES>[C][=C][Branch1][C][O][C]</SELFIES>")
        elif kind < 0.66:
            parts.append(f"<IUPAC>{rng.choice(_IUPAC)}</IUPAC>")
        elif kind < 0.71:
            parts.append(f"<FASTA>{_protein(rng, 10, 80)}</FASTA>")
        elif kind < 0.76:
            parts.append(f"The sequence {_protein(rng, 26, 120)} binds.")
        elif kind < 0.77:
            parts.append(_protein(rng, 1000, 5000))
        elif kind < 0.81:
            parts.append(f"<MOLFORMULA>C{rng.randint(1, 30)}H{rng.randint(1, 60)}O{rng.randint(1, 9)}</MOLFORMULA>")
        elif kind < 0.83:
            parts.append(f"<SMILES>{rng.choice(_VALID_SMILES)}")  # unclosed
        elif kind < 0.85:
            parts.append(f"<SMILES>CCO</IUPAC> then <IUPAC>methane</SMILES> and {rng.choice(_VALID_SMILES)}")
        elif kind < 0.88:
            parts.append(f"def f(x):\n    return x ** {rng.randint(2, 9)}  # {rng.random():.4f}\n")
        elif kind < 0.90:
            parts.append(f"<think>{_prose(rng, 5)}</think><|im_start|>user\n{_prose(rng, 4)}<|im_end|>")
        elif kind < 0.92:
            parts.append(f"x{rng.choice(_VALID_SMILES)}y and ▁ spaces\t\ttabs 😀🧪 e\u0301")
        else:
            parts.append(f"{rng.randint(0, 10**6)} mg/L at {rng.uniform(0, 400):.2f} K ({rng.choice(_VALID_SMILES)})")
    return rng.choice([" ", "\n", "\n\n", "  "]).join(parts)


def mixed_corpus(total_chars: int, seed: int = 0) -> list[str]:
    """Seeded documents until ``total_chars`` characters."""
    rng = random.Random(seed)
    docs, size = [], 0
    while size < total_chars:
        doc = corpus_document(rng)
        docs.append(doc)
        size += len(doc)
    return docs
