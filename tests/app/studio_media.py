"""Small media files made on the fly for the app tests (images, a short video, molecule and FASTA files)."""

from __future__ import annotations

from pathlib import Path


def make_image(path: Path, size: tuple[int, int] = (96, 64), color: str = "red") -> Path:
    from PIL import Image

    Image.new("RGB", size, color).save(path)
    return path


def make_video(
    path: Path, frames: int = 12, size: tuple[int, int] = (64, 48), fps: int = 6, codec: str | None = None
) -> Path:
    """A video whose frames fade from black to white (PyAV: ``codec``, or libx264 falling back to mpeg4)."""
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        try:
            stream = container.add_stream(codec or "libx264", rate=fps)
        except (av.error.FFmpegError, ValueError):
            if codec:
                raise
            stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for index in range(frames):
            level = int(255 * index / max(frames - 1, 1))
            array = np.full((size[1], size[0], 3), level, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
UBIQUITIN = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"
# One input of each kind the science endpoints take (API, gradio_client, MCP tests send the same ones).
SCIENCE_INPUTS = {
    "smiles": ASPIRIN,
    "reaction": "CC(=O)O.OCC>>CC(=O)OCC",
    "protein": UBIQUITIN,
    "dna": "ATGCGTACGTTAGCATGCAAATTTGGG",
    "rna": "AUGCGUACGUUAGCAUGCAAAUUU",
    "fasta": f">sp|P0CG48|UBQ_HUMAN Ubiquitin\n{UBIQUITIN}\n",
    "invalid": "C1CC(!<script>",
}


def pdb_text(chains: dict[str, str] | None = None, ligand: str | None = "ACT") -> str:
    """A small PDB structure: each chain a helix-like backbone (N, CA, C, O per residue, 100° and 1.5 Å per residue,
    along x), chains 12 Å apart, and optionally one three-atom ligand (HETATM) between them. Not physically exact, but
    every parser and viewer reads it as what it is: protein chains with a ligand."""
    import math

    from Bio.SeqUtils import seq3

    chains = chains if chains is not None else {"A": UBIQUITIN[:16], "B": "KVTVKVTV"}
    lines, serial = ["HEADER    SMALL TEST STRUCTURE WRITTEN BY THE TEST"], 0
    backbone = (("N", "N", 1.6, -28.0, -0.5), ("CA", "C", 2.3, 0.0, 0.0), ("C", "C", 1.6, 28.0, 0.5),
                ("O", "O", 1.9, 40.0, 1.3))  # fmt: skip
    for offset, (chain, sequence) in enumerate(chains.items()):
        for number, letter in enumerate(sequence, start=1):
            for name, element, radius, degrees, rise in backbone:
                angle = math.radians(100.0 * number + degrees)
                # the helix axis runs along x, so a viewer looking down z sees the chains side by side
                xyz = (1.5 * number + rise, 12.0 * offset + radius * math.cos(angle), radius * math.sin(angle))
                serial += 1
                lines.append(pdb_atom("ATOM  ", serial, name, seq3(letter).upper(), chain, number, xyz, element))
    for index, (name, element) in enumerate((("C", "C"), ("O1", "O"), ("O2", "O")) if ligand else ()):
        serial += 1
        lines.append(pdb_atom("HETATM", serial, name, ligand, "A", 101, (5.0, 6.0 + index, 0.0), element))
    return "\n".join([*lines, "END", ""])


def make_pdb(path: Path, chains: dict[str, str] | None = None, ligand: str | None = "ACT") -> Path:
    """:func:`pdb_text` written to ``path``."""
    path.write_text(pdb_text(chains, ligand), encoding="ascii")
    return path


def pdb_atom(record: str, serial: int, name: str, resname: str, chain: str, number: int, xyz, element: str) -> str:
    x, y, z = xyz
    return (f"{record}{serial:5d} {name:<4} {resname:>3} {chain}{number:4d}    {x:8.3f}{y:8.3f}{z:8.3f}"
            f"  1.00  0.00          {element:>2}")  # fmt: skip


def make_mmcif(pdb_path: Path, cif_path: Path) -> Path:
    """The structure of a PDB file written again as mmCIF (Biopython's MMCIFIO)."""
    import io

    from Bio.PDB import MMCIFIO, PDBParser

    writer, out = MMCIFIO(), io.StringIO()
    writer.set_structure(PDBParser(QUIET=True).get_structure("s", str(pdb_path)))
    writer.save(out)
    cif_path.write_text(out.getvalue(), encoding="utf-8")
    return cif_path
