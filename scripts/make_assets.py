"""Write the example inputs in ``assets/`` (all made here, from code, so they can be redistributed freely).

    python scripts/make_assets.py            # rewrites every file in assets/

Each file is deterministic (fixed seeds, no timestamps) so re-running it gives the same bytes, except the MP4
container, whose encoder may differ between PyAV builds. ``assets/README.md`` says what each file shows and how it
was made; ``tests/test_assets.py`` exercises every one of them through the same readers the app uses.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont


ASSETS = Path(__file__).resolve().parents[1] / "assets"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian fonts-dejavu-core: has µ and λ


def _font(size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans where installed (Pillow's built-in font has no µ or λ glyphs)."""
    return ImageFont.truetype(str(DEJAVU), size) if DEJAVU.exists() else ImageFont.load_default(size=size)


# -- a figure: UV-Vis absorbance spectrum of a two-band dye --------------------------------------------------------


def _band(wavelengths: np.ndarray, centre: float, width: float, height: float) -> np.ndarray:
    return height * np.exp(-(((wavelengths - centre) / width) ** 2))


def absorbance_spectrum(path: Path) -> None:
    """A line chart with labelled axes: absorbance of a dye between 350 and 700 nm (bands at 420 and 555 nm)."""
    width, height, left, right, top, bottom = 800, 500, 90, 30, 50, 80
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = _font(15)
    plot_w, plot_h = width - left - right, height - top - bottom
    draw.rectangle([left, top, left + plot_w, top + plot_h], outline="black", width=2)
    nm = np.linspace(350, 700, 351)
    absorbance = _band(nm, 420, 30, 0.35) + _band(nm, 555, 40, 0.92) + 0.02

    def to_xy(x: float, y: float) -> tuple[float, float]:
        return left + (x - 350) / 350 * plot_w, top + plot_h - y / 1.0 * plot_h

    for tick in range(350, 701, 50):
        x, _ = to_xy(tick, 0)
        draw.line([x, top + plot_h, x, top + plot_h + 6], fill="black", width=2)
        draw.text((x, top + plot_h + 10), str(tick), fill="black", font=font, anchor="ma")
    for tick in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        _, y = to_xy(350, tick)
        draw.line([left - 6, y, left, y], fill="black", width=2)
        draw.text((left - 10, y), f"{tick:.1f}", fill="black", font=font, anchor="rm")
    draw.line([to_xy(x, y) for x, y in zip(nm, absorbance)], fill=(200, 30, 90), width=3)
    for peak in (420, 555):
        x, y = to_xy(peak, float(absorbance[peak - 350]))
        draw.text((x + 14, y + 4), f"λmax {peak} nm", fill="black", font=font, anchor="lm")
    draw.text((left + plot_w / 2, height - 30), "Wavelength (nm)", fill="black", font=font, anchor="mm")
    axis_label = Image.new("RGB", (160, 24), "white")
    ImageDraw.Draw(axis_label).text((80, 12), "Absorbance (AU)", fill="black", font=font, anchor="mm")
    image.paste(axis_label.rotate(90, expand=True), (20, top + plot_h // 2 - 80))
    draw.text((width / 2, 20), "UV-Vis spectrum, 25 µM dye in water, 1 cm cell", fill="black", font=font, anchor="mm")
    image.save(path, optimize=True)


# -- a micrograph-like figure: fluorescent cells ----------------------------------------------------------------------


def cells_micrograph(path: Path, seed: int = 7) -> None:
    """A 512×512 two-channel fluorescence-style image: cytoplasm (green) and nuclei (blue), with a scale bar."""
    rng = np.random.default_rng(seed)
    size = 512
    green = Image.new("L", (size, size), 0)
    blue = Image.new("L", (size, size), 0)
    draw_g, draw_b = ImageDraw.Draw(green), ImageDraw.Draw(blue)
    for _ in range(14):
        cx, cy = rng.uniform(40, size - 40, 2)
        rx, ry = rng.uniform(28, 48, 2)
        draw_g.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=int(rng.uniform(120, 200)))
        nx, ny = cx + rng.uniform(-6, 6), cy + rng.uniform(-6, 6)
        nr = min(rx, ry) * rng.uniform(0.35, 0.5)
        draw_b.ellipse([nx - nr, ny - nr * 1.2, nx + nr, ny + nr * 1.2], fill=int(rng.uniform(170, 240)))
    green_a = np.asarray(green.filter(ImageFilter.GaussianBlur(4)), dtype=np.float32)
    blue_a = np.asarray(blue.filter(ImageFilter.GaussianBlur(2)), dtype=np.float32)
    noise = rng.normal(0, 6, (size, size, 3)).astype(np.float32)
    rgb = np.stack([0.15 * green_a, green_a, blue_a + 0.2 * green_a], axis=-1) + noise + 4
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle([size - 110, size - 30, size - 30, size - 24], fill="white")  # 80 px = 20 µm at 0.25 µm/px
    draw.text((size - 70, size - 36), "20 µm", fill="white", font=_font(13), anchor="md")
    image.save(path, optimize=True)


# -- a lab video: phenolphthalein end point in a titration flask ------------------------------------------------------


def _flask_frame(t: float, width: int = 320, height: int = 240) -> Image.Image:
    image = Image.new("RGB", (width, height), (235, 238, 242))
    draw = ImageDraw.Draw(image)
    draw.rectangle([150, 0, 170, 70], fill=(210, 220, 230), outline=(90, 90, 90))  # burette tip
    pink = min(1.0, max(0.0, (t - 1.0) / 1.2))  # colourless until 1 s, fully pink at 2.2 s
    liquid = (int(240 - 10 * pink), int(240 - 140 * pink), int(245 - 60 * pink))
    draw.polygon([(140, 95), (180, 95), (250, 215), (70, 215)], fill=(250, 250, 252), outline=(80, 80, 80))
    draw.polygon([(112, 150), (208, 150), (245, 210), (75, 210)], fill=liquid)
    drop_y = 70 + (t % 1.0) * 80  # one drop a second falls into the flask
    draw.ellipse([156, drop_y, 164, drop_y + 10], fill=(200, 215, 235))
    draw.text((8, 8), f"t = {t:.1f} s", fill=(40, 40, 40), font=_font(13))
    return image


def titration_video(path: Path, seconds: float = 3.0, fps: int = 10) -> None:
    """A 3 s, 320×240, 10 fps H.264 clip (browser-playable): the flask turns pink at the end point."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"crf": "28", "preset": "medium"}
        for index in range(int(seconds * fps)):
            frame = av.VideoFrame.from_image(_flask_frame(index / fps))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


# -- sequences, molecules, a structure --------------------------------------------------------------------------------

UBIQUITIN = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"
INSULIN_B = "FVNQHLCGSHLVEALYLVCGERGFFYTPKT"


def sequences_fasta(path: Path) -> None:
    lines = [">ubiquitin human (76 aa)", UBIQUITIN[:60], UBIQUITIN[60:], ">insulin B chain human (30 aa)", INSULIN_B]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


MOLECULES = {
    "caffeine": "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "paracetamol": "CC(=O)Nc1ccc(O)cc1",
}


def molecules_sdf(path: Path) -> None:
    """Three molecules with 2D coordinates, each with its name as the SDF title line."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    writer_text = []
    for name, smiles in MOLECULES.items():
        mol = Chem.MolFromSmiles(smiles)
        AllChem.Compute2DCoords(mol)
        mol.SetProp("_Name", name)
        block = Chem.MolToMolBlock(mol)
        # RDKit writes a program/timestamp line 2; keep it fixed so the file is reproducible.
        lines = block.splitlines()
        lines[1] = "  intern-s1-studio assets"
        writer_text.append("\n".join(lines) + f"\n>  <name>\n{name}\n\n$$$$")
    path.write_text("\n".join(writer_text) + "\n", encoding="ascii")


def _place(a: np.ndarray, b: np.ndarray, c: np.ndarray, bond: float, angle: float, torsion: float) -> np.ndarray:
    """Position of atom d from a-b-c, |cd| = bond, angle b-c-d and dihedral a-b-c-d in degrees (NeRF)."""
    angle, torsion = math.radians(angle), math.radians(torsion)
    bc = (c - b) / np.linalg.norm(c - b)
    n = np.cross(b - a, bc)
    n /= np.linalg.norm(n)
    m = np.stack([bc, np.cross(n, bc), n], axis=1)
    d = np.array([-bond * math.cos(angle), bond * math.sin(angle) * math.cos(torsion),
                  bond * math.sin(angle) * math.sin(torsion)])  # fmt: skip
    return c + m @ d


def _backbone(sequence: str, phi: float, psi: float) -> list[dict[str, np.ndarray]]:
    """Ideal backbone (N, CA, C, O, CB) with standard bond lengths and angles and fixed phi/psi (omega 180)."""
    n, ca = np.array([0.0, 1.458, 0.0]), np.array([0.0, 0.0, 0.0])
    c = _place(np.array([1.0, 2.0, 0.0]), n, ca, 1.525, 111.2, -60.0)
    residues = []
    for index, letter in enumerate(sequence):
        if index:
            n = _place(residues[-1]["N"], residues[-1]["CA"], residues[-1]["C"], 1.329, 116.2, psi)
            ca = _place(residues[-1]["CA"], residues[-1]["C"], n, 1.458, 121.7, 180.0)
            c = _place(residues[-1]["C"], n, ca, 1.525, 111.2, phi)
        atoms = {"N": n, "CA": ca, "C": c}
        next_n = _place(n, ca, c, 1.329, 116.2, psi)
        atoms["O"] = _place(next_n, ca, c, 1.231, 120.5, 180.0)
        if letter != "G":  # ideal L-amino-acid C-beta from the backbone frame
            b, cc = ca - n, c - ca
            atoms["CB"] = -0.58273431 * np.cross(b, cc) + 0.56802827 * b - 0.54067466 * cc + ca
        residues.append(atoms)
    return residues


_THREE = {"A": "ALA", "R": "ARG", "N": "ASN", "D": "ASP", "C": "CYS", "Q": "GLN", "E": "GLU", "G": "GLY",
          "H": "HIS", "I": "ILE", "L": "LEU", "K": "LYS", "M": "MET", "F": "PHE", "P": "PRO", "S": "SER",
          "T": "THR", "W": "TRP", "Y": "TYR", "V": "VAL"}  # fmt: skip


def _atom_line(record: str, serial: int, name: str, res: str, chain: str, number: int, xyz, element: str) -> str:
    x, y, z = (float(v) for v in xyz)
    return (f"{record:<6}{serial:>5} {name:<4} {res:>3} {chain}{number:>4}    {x:>8.3f}{y:>8.3f}{z:>8.3f}"
            f"  1.00 20.00          {element:>2}")  # fmt: skip


def _axis(points: np.ndarray) -> np.ndarray:
    """Unit direction of the longest extent of ``points`` (N, 3), pointing from the first to the last point."""
    direction = np.linalg.svd(points - points.mean(0))[2][0]
    return direction if direction @ (points[-1] - points[0]) > 0 else -direction


def _rotation(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The rotation matrix turning unit vector ``source`` onto unit vector ``target`` (Rodrigues)."""
    v, c = np.cross(source, target), float(source @ target)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1 + c)


def _chains() -> tuple[dict[str, list[tuple[str, dict[str, np.ndarray]]]], np.ndarray, np.ndarray]:
    """Chain A: an alpha helix (phi −57°, psi −47°); chain B: an extended strand laid parallel to the helix axis,
    13 Å to its side (so the two never clash)."""
    helix_seq, strand_seq = "AEAAAKEAAAKEAAAKAGW", "KVTVKVTV"
    helix, strand = _backbone(helix_seq, -57.0, -47.0), _backbone(strand_seq, -120.0, 130.0)
    helix_ca = np.array([atoms["CA"] for atoms in helix])
    strand_ca = np.array([atoms["CA"] for atoms in strand])
    axis = _axis(helix_ca)
    side = np.cross(axis, [0.0, 0.0, 1.0])
    side /= np.linalg.norm(side)
    turn = _rotation(_axis(strand_ca), axis)
    shift = helix_ca.mean(0) + 13.0 * side - turn @ strand_ca.mean(0)
    strand = [{name: turn @ xyz + shift for name, xyz in atoms.items()} for atoms in strand]
    return {"A": list(zip(helix_seq, helix)), "B": list(zip(strand_seq, strand))}, helix_ca.mean(0), side


def peptide_pdb(path: Path) -> None:
    """Two chains built from ideal geometry (see :func:`_chains`), an acetate ligand (ACT) between them and two
    waters. HELIX/SHEET records are written so that viewers draw the cartoon without computing it."""
    chains, centre, side = _chains()
    lines = ["HEADER    DESIGNED PEPTIDES                       01-DEC-26   XXXX",
             "TITLE     IDEAL HELIX AND STRAND, INTERN-S1 STUDIO EXAMPLE",
             "HELIX    1   1 ALA A    1  TRP A   19  1                                  19",
             "SHEET    1   A 1 LYS B   1  VAL B   8  0"]  # fmt: skip
    serial = 1
    for chain, residues in chains.items():
        for number, (letter, atoms) in enumerate(residues, start=1):
            for name, xyz in atoms.items():
                lines.append(_atom_line("ATOM", serial, name, _THREE[letter], chain, number, xyz, name[0]))
                serial += 1
        lines.append(f"TER   {serial:>5}      {_THREE[residues[-1][0]]} {chain}{len(residues):>4}")
        serial += 1
    site = centre + 7.0 * side  # about halfway between the helix and the strand
    ligand = {"C": (0.0, 0.0, 0.0), "CH3": (1.5, 0.0, 0.0), "O": (-0.6, 1.05, 0.0), "OXT": (-0.6, -1.05, 0.0)}
    for name, xyz in ligand.items():
        lines.append(_atom_line("HETATM", serial, name, "ACT", "A", 101, site + np.array(xyz), name[0]))
        serial += 1
    for number, xyz in ((201, centre - 6.0 * side), (202, centre + 7.0 * side + np.array([0.0, 0.0, 3.5]))):
        lines.append(_atom_line("HETATM", serial, "O", "HOH", "A", number, xyz, "O"))
        serial += 1
    lines.append("END")
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    absorbance_spectrum(ASSETS / "absorbance_spectrum.png")
    cells_micrograph(ASSETS / "cells_micrograph.png")
    titration_video(ASSETS / "titration.mp4")
    sequences_fasta(ASSETS / "proteins.fasta")
    molecules_sdf(ASSETS / "drugs.sdf")
    peptide_pdb(ASSETS / "designed_peptides.pdb")
    for file in sorted(ASSETS.iterdir()):
        print(f"{file.name:28} {file.stat().st_size:>8} bytes")


if __name__ == "__main__":
    main()
