"""Extracts Jane Austen's six novels as plain text from Debian's r-cran-janeaustenr package (an R
lazy-load database: Rdata.rdx indexes zlib-compressed, XDR-serialized character vectors in
Rdata.rdb), without R. Usage: extract_austen.py PACKAGE_DATA_DIR OUTPUT_DIR"""
import gzip
import os
import struct
import sys
import zlib


class Reader:
    """Just enough of R's XDR serialization for lists, names and character vectors."""

    def __init__(self, data):
        self.data, self.at, self.references = data, 0, []

    def int(self):
        (v,) = struct.unpack_from(">i", self.data, self.at)
        self.at += 4
        return v

    def header(self):
        assert self.data[:2] == b"X\n", "not an XDR serialization"
        self.at = 2
        version = self.int()
        self.int(), self.int()
        if version == 3:
            length = self.int()  # native encoding name
            self.at += length

    def item(self):
        flags = self.int()
        kind, has_attributes, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind == 254:  # NULL
            return None
        if kind == 9:  # CHARSXP
            n = self.int()
            if n == -1:
                return None
            s = self.data[self.at:self.at + n].decode("utf-8", "replace")
            self.at += n
            return s
        if kind == 16:  # STRSXP
            value = [self.item() for _ in range(self.int())]
        elif kind in (10, 13):  # LGLSXP, INTSXP
            n = self.int()
            value = list(struct.unpack_from(f">{n}i", self.data, self.at))
            self.at += 4 * n
        elif kind == 19:  # VECSXP
            value = [self.item() for _ in range(self.int())]
        elif kind == 2:  # LISTSXP (pairlist): attributes, tag, car, cdr
            out = []
            while kind == 2:
                if has_attributes:
                    self.item()
                tag = self.item() if has_tag else None
                out.append((tag, self.item()))
                flags = self.int()
                kind, has_attributes, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
            assert kind == 254
            return out
        elif kind == 1:  # SYMSXP
            symbol = self.item()
            self.references.append(symbol)
            return symbol
        elif kind == 255:  # REFSXP
            index = flags >> 8 or self.int()
            return self.references[index - 1]
        else:
            raise ValueError(f"unsupported R type {kind}")
        if has_attributes:
            names = dict(self.item()).get("names")
            if names is not None:
                return dict(zip(names, value))
        return value


def load(blob):
    r = Reader(blob)
    r.header()
    return r.item()


data_dir, out_dir = sys.argv[1:3]
index = load(gzip.open(os.path.join(data_dir, "Rdata.rdx")).read())
with open(os.path.join(data_dir, "Rdata.rdb"), "rb") as f:
    database = f.read()
os.makedirs(out_dir, exist_ok=True)
for name, (offset, length) in index["variables"].items():
    lines = load(zlib.decompress(database[offset + 4:offset + length]))  # 4 bytes: the uncompressed length
    with open(os.path.join(out_dir, f"{name}.txt"), "w") as out:
        out.write("\n".join(line or "" for line in lines) + "\n")
    print(name, len(lines), "lines")
