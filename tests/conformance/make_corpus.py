#!/usr/bin/python3
"""Writes actorrent's own conformance corpus: corner-case .torrent files and
the verdict each must get from the loader (protocol/metainfo.*).

    tests/conformance/make_corpus.py            write torrents/ and verdicts.tsv here
    tests/conformance/make_corpus.py --check    fail unless the committed files are
                                                exactly what this script writes

Needs only the Python 3 standard library. unit.conformance reads the result
(tests/unit/conformance_test.cpp); both are committed, so a plain clone tests
them without anything beside the checkout.

verdicts.tsv, one torrent a line, tab-separated:
    file  verdict  v1_info_hash  num_files  num_pieces  piece_length  total_size  paths_or_reason
verdict is accept or reject. For accept, v1_info_hash is the SHA-1 of the
bencoded info dictionary as written here, num_files counts pad files, and
paths_or_reason lists every file's path relative to the download directory,
" | " between them, "[pad]" for a BEP 47 pad file. For reject, the other
columns are "-" and paths_or_reason is text the loader's error must contain.

The expected paths follow the loader's documented rule for unsafe names (never
write outside the download directory, and do not refuse a torrent a user can
safely download): each path element is split at '/' and '\\', empty, "." and
".." parts are dropped, control characters become '_', a part longer than 255
bytes is shortened keeping its extension, an empty path becomes "_", a file
whose path is taken (by a file, or a directory) gets ".N" before its extension,
and a name that sanitises to nothing becomes the info-hash in hex.
"""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KIB = 1024


def bencode(v):
    if isinstance(v, bool):
        raise TypeError("no booleans in bencoding")
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode("utf-8")
    if isinstance(v, (bytes, bytearray)):
        return b"%d:" % len(v) + bytes(v)
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        keys = sorted((k.encode("utf-8") if isinstance(k, str) else k, val) for k, val in v.items())
        return b"d" + b"".join(bencode(k) + bencode(val) for k, val in keys) + b"e"
    raise TypeError(type(v))


def hashes(n):
    """n fixed 20-byte piece hashes (their value does not matter to the loader)."""
    return b"".join(hashlib.sha1(b"piece %d" % i).digest() for i in range(n))


def pieces_for(total, plen):
    return (total + plen - 1) // plen


def single(name, length, plen=16 * KIB, **extra):
    info = {"name": name, "length": length, "piece length": plen,
            "pieces": hashes(pieces_for(length, plen))}
    info.update(extra)
    return info


def multi(name, files, plen=16 * KIB, **extra):
    """files: (path list, length) or (path list, length, attr) or a full dict."""
    entries, total = [], 0
    for f in files:
        if isinstance(f, dict):
            e = f
        else:
            e = {"path": f[0], "length": f[1]}
            if len(f) > 2:
                e["attr"] = f[2]
        entries.append(e)
        total += e.get("length", 0) if isinstance(e.get("length", 0), int) else 0
    info = {"name": name, "files": entries, "piece length": plen,
            "pieces": hashes(pieces_for(total, plen))}
    info.update(extra)
    return info


def torrent(info, **outer):
    t = {"announce": "http://127.0.0.1:1/announce", "info": info}
    t.update(outer)
    return bencode(t)


CASES = []  # (file name, bytes, verdict, expected paths or reason)


def accept(name, data, paths):
    CASES.append((name, data, "accept", paths))


def reject(name, data, reason):
    CASES.append((name, data, "reject", reason))


def build():
    long_stem = "x" * 300
    # ---- accepted, with the paths they must map to --------------------------
    accept("single_file.torrent", torrent(single("a.bin", 40000)), ["a.bin"])
    accept("one_byte.torrent", torrent(single("b", 1)), ["b"])
    accept("exact_pieces.torrent", torrent(single("c", 4 * 16 * KIB)), ["c"])
    accept("piece_length_not_power_of_two.torrent", torrent(single("d", 10000, plen=3000)), ["d"])
    accept("large_piece_length.torrent", torrent(single("e", 100, plen=16 << 20)), ["e"])
    accept("multi_file_nested.torrent", torrent(multi("top", [
        (["a.txt"], 100), (["sub", "b.txt"], 20000), (["sub", "deeper", "c.txt"], 5)])),
        ["top/a.txt", "top/sub/b.txt", "top/sub/deeper/c.txt"])
    accept("parent_path.torrent", torrent(multi("t", [(["..", "..", "etc", "passwd"], 10)])),
           ["t/etc/passwd"])
    accept("absolute_path.torrent", torrent(multi("t", [(["/etc/passwd"], 10)])), ["t/etc/passwd"])
    accept("backslash_path.torrent", torrent(multi("t", [(["..\\..\\win.ini"], 10)])), ["t/win.ini"])
    accept("dot_components.torrent", torrent(multi("t", [([".", "a", "", "."], 10)])), ["t/a"])
    accept("slash_inside_element.torrent", torrent(multi("t", [(["a/b//c"], 10)])), ["t/a/b/c"])
    accept("empty_path_list.torrent", torrent(multi("t", [([], 10)])), ["t/_"])
    accept("only_dots_path.torrent", torrent(multi("t", [(["..", "."], 10)])), ["t/_"])
    accept("control_characters.torrent", torrent(multi("t", [(["a\x01b\x7f", "c\nd"], 10)])),
           ["t/a_b_/c_d"])
    accept("duplicate_files.torrent", torrent(multi("t", [(["f.txt"], 10), (["f.txt"], 20), (["f.txt"], 30)])),
           ["t/f.txt", "t/f.1.txt", "t/f.2.txt"])
    accept("file_then_directory.torrent", torrent(multi("t", [(["a"], 10), (["a", "b"], 20)])),
           ["t/a", "t/a.1/b"])
    accept("directory_then_file.torrent", torrent(multi("t", [(["a", "b"], 20), (["a"], 10)])),
           ["t/a/b", "t/a.1"])
    accept("name_parent.torrent", torrent(single("..", 10)), None)  # the info-hash, see below
    accept("name_with_slash.torrent", torrent(single("a/b", 10)), ["a_b"])
    accept("name_absolute_multi.torrent", torrent(multi("/tmp/x", [(["f"], 10)])), ["_tmp_x/f"])
    accept("long_component.torrent", torrent(multi("t", [([long_stem + ".mkv"], 10)])),
           ["t/" + "x" * (255 - 4) + ".mkv"])
    accept("utf8_path_preferred.torrent", torrent(multi("t", [
        {"path": ["latin1-\xe9"], "path.utf-8": ["utf8-\u00e9"], "length": 10}])), ["t/utf8-\u00e9"])
    accept("pad_files.torrent", torrent(multi("t", [
        (["a"], 10000), ([".pad", "6384"], 6384, "p"), (["b"], 5)])), ["t/a", "[pad]", "t/b"])
    accept("bitcomet_padding.torrent", torrent(multi("t", [
        (["a"], 10000), (["_____padding_file_0_"], 6384), (["b"], 5)])), ["t/a", "[pad]", "t/b"])
    accept("empty_files.torrent", torrent(multi("t", [(["empty1"], 0), (["a"], 10), (["empty2"], 0)])),
           ["t/empty1", "t/a", "t/empty2"])
    accept("symlink_outside.torrent", torrent(multi("t", [
        (["a"], 10), {"path": ["link"], "attr": "l", "symlink path": ["..", "..", "etc", "shadow"]}])),
        ["t/a", "t/link"])
    accept("unknown_keys.torrent", torrent(single("u", 10, **{"x-custom": {"k": [1, 2]}, "source": "lab"})),
           ["u"])
    accept("private.torrent", torrent(single("p", 10, private=1)), ["p"])
    accept("trailing_newline.torrent", torrent(single("n", 10)) + b"\n", ["n"])
    accept("no_announce.torrent", bencode({"info": single("q", 10)}), ["q"])
    accept("meta_version_1.torrent", torrent(single("m", 10, **{"meta version": 1})), ["m"])
    # ---- rejected, with text the error must contain ---------------------------
    reject("empty_file.torrent", b"", "invalid bencoding")
    reject("not_a_dictionary.torrent", b"li1ei2ee", "not a dictionary")
    reject("truncated.torrent", torrent(single("a", 10))[:-7], "invalid bencoding")
    reject("string_past_end.torrent", b"d4:info5:abe", "invalid bencoding")
    reject("deep_nesting.torrent", b"d1:x" + b"l" * 200 + b"e" * 200 + b"4:info" + bencode(single("a", 10)) + b"e",
           "invalid bencoding")
    reject("no_info.torrent", bencode({"announce": "http://127.0.0.1:1/a"}), "'info' dictionary")
    reject("info_is_a_list.torrent", bencode({"info": [1, 2]}), "'info' dictionary")
    i = single("a", 10)
    del i["piece length"]
    reject("missing_piece_length.torrent", torrent(i), "'piece length'")
    reject("zero_piece_length.torrent", torrent(dict(single("a", 10), **{"piece length": 0})), "'piece length'")
    reject("negative_piece_length.torrent", torrent(dict(single("a", 10), **{"piece length": -16384})),
           "'piece length'")
    reject("huge_piece_length.torrent", torrent(single("a", 10, plen=1 << 30)), "'piece length'")
    i = single("a", 10)
    del i["pieces"]
    reject("missing_pieces.torrent", torrent(i), "'pieces'")
    reject("pieces_not_multiple_of_20.torrent", torrent(dict(single("a", 10), pieces=hashes(1)[:19])),
           "'pieces' length")
    reject("too_few_hashes.torrent", torrent(dict(single("a", 40000), pieces=hashes(2))),
           "incorrect number of piece hashes")
    reject("too_many_hashes.torrent", torrent(dict(single("a", 10), pieces=hashes(2))),
           "incorrect number of piece hashes")
    reject("too_many_pieces.torrent", torrent(dict(single("a", 1, plen=16 * KIB),
                                                   length=((1 << 21) + 1) * 16 * KIB)), "too many pieces")
    i = single("a", 10)
    del i["name"]
    reject("missing_name.torrent", torrent(i), "'name'")
    reject("name_with_nul.torrent", torrent(single("a\x00b", 10)), "NUL")
    reject("negative_length.torrent", torrent(dict(single("a", 10), length=-5)), "negative file length")
    reject("zero_length.torrent", torrent(dict(single("a", 10), length=0, pieces=b"")), "no data")
    reject("all_files_empty.torrent", torrent(dict(multi("t", [(["a"], 0), (["b"], 0)]), pieces=b"")), "no data")
    reject("files_empty_list.torrent", torrent(dict(multi("t", [(["a"], 10)]), files=[])), "no files")
    reject("files_not_a_list.torrent", torrent(dict(multi("t", [(["a"], 10)]), files={"a": 1})),
           "'files' is not a list")
    reject("file_not_a_dictionary.torrent", torrent(dict(multi("t", [(["a"], 10)]), files=[["a"]])),
           "not a dictionary")
    reject("file_without_length.torrent", torrent(multi("t", [{"path": ["a"]}, (["b"], 10)])),
           "no integer 'length'")
    reject("file_length_is_a_string.torrent", torrent(multi("t", [{"path": ["a"], "length": "10"}, (["b"], 10)])),
           "no integer 'length'")
    reject("file_without_path.torrent", torrent(multi("t", [{"length": 10}])), "no 'path' list")
    reject("path_element_not_a_string.torrent", torrent(multi("t", [([1, "a"], 10)])), "not a string")
    reject("path_too_deep.torrent", torrent(multi("t", [(["d"] * 200, 10)])), "deeper than")
    reject("no_length_no_files.torrent", torrent(dict((k, v) for k, v in single("a", 10).items() if k != "length")),
           "no files in torrent")
    reject("total_size_overflow.torrent", torrent(dict(multi("t", [(["a"], 10)]), files=[
        {"path": ["a"], "length": 1 << 62}, {"path": ["b"], "length": 1 << 62}])),
           "total size exceeds")
    reject("symlink_without_target.torrent", torrent(multi("t", [(["a"], 10), {"path": ["l"], "attr": "l"}])),
           "no 'symlink path'")
    reject("v2_only.torrent", torrent({"name": "v", "piece length": 16 * KIB, "meta version": 2,
                                       "file tree": {"v": {"": {"length": 10, "pieces root": b"\0" * 32}}}}),
           "v2-only")
    reject("unknown_meta_version.torrent", torrent(single("a", 10, **{"meta version": 3})), "unknown 'meta version'")


def info_bytes(data):
    """The raw bytes of the top-level 'info' value (a tiny bdecoder)."""
    def skip(p):
        c = data[p:p + 1]
        if c == b"i":
            return data.index(b"e", p) + 1
        if c in (b"l", b"d"):
            p += 1
            while data[p:p + 1] != b"e":
                p = skip(p)
            return p + 1
        colon = data.index(b":", p)
        return colon + 1 + int(data[p:colon])
    p = 1
    while data[p:p + 1] != b"e":
        kend = skip(p)
        key = data[data.index(b":", p) + 1:kend]
        vend = skip(kend)
        if key == b"info":
            return data[kend:vend]
        p = vend
    raise ValueError("no info")


def row(name, data, verdict, expected):
    if verdict == "reject":
        return [name, "reject", "-", "-", "-", "-", "-", expected]
    ih = hashlib.sha1(info_bytes(data)).hexdigest()
    info = TORRENT_INFO[name]
    if "files" in info:
        total = sum(f["length"] for f in info["files"] if "length" in f and b"l" not in f.get("attr", b""))
        nfiles = len(info["files"])
    else:
        total, nfiles = info["length"], 1
    plen = info["piece length"]
    paths = expected if expected is not None else [ih]
    return [name, "accept", ih, str(nfiles), str(pieces_for(total, plen)), str(plen), str(total),
            " | ".join(paths)]


TORRENT_INFO = {}


def generate():
    """{relative path: bytes} of everything this script writes."""
    build()
    out = {}
    lines = ["file\tverdict\tv1_info_hash\tnum_files\tnum_pieces\tpiece_length\ttotal_size\tpaths_or_reason"]
    seen = set()
    for name, data, verdict, expected in CASES:
        assert name not in seen, name
        seen.add(name)
        out["torrents/" + name] = data
        if verdict == "accept":
            TORRENT_INFO[name] = decode_info(info_bytes(data))
        cols = row(name, data, verdict, expected)
        assert all("\t" not in c and "\n" not in c for c in cols), name
        lines.append("\t".join(cols))
    out["verdicts.tsv"] = ("\n".join(lines) + "\n").encode("utf-8")
    return out


def decode_info(raw):
    """Decodes the (well-formed, own) info dictionary: only what row() reads."""
    def dec(p):
        c = raw[p:p + 1]
        if c == b"i":
            e = raw.index(b"e", p)
            return int(raw[p + 1:e]), e + 1
        if c == b"l":
            p += 1
            out = []
            while raw[p:p + 1] != b"e":
                v, p = dec(p)
                out.append(v)
            return out, p + 1
        if c == b"d":
            p += 1
            out = {}
            while raw[p:p + 1] != b"e":
                k, p = dec(p)
                v, p = dec(p)
                out[k.decode("utf-8", "replace")] = v
            return out, p + 1
        colon = raw.index(b":", p)
        n = int(raw[p:colon])
        s = raw[colon + 1:colon + 1 + n]
        return s, colon + 1 + n
    return dec(0)[0]


def main():
    check = sys.argv[1:] == ["--check"]
    if sys.argv[1:] and not check:
        sys.exit(__doc__)
    files = generate()
    if check:
        bad = []
        for rel, data in sorted(files.items()):
            path = os.path.join(HERE, rel)
            try:
                with open(path, "rb") as f:
                    if f.read() != data:
                        bad.append(rel + " differs")
            except OSError as e:
                bad.append("%s: %s" % (rel, e.strerror))
        extra = sorted(set("torrents/" + n for n in os.listdir(os.path.join(HERE, "torrents")))
                       - set(files)) if os.path.isdir(os.path.join(HERE, "torrents")) else []
        bad += [rel + " is not written by this script" for rel in extra]
        for b in bad:
            print("make_corpus --check: " + b, file=sys.stderr)
        if bad:
            sys.exit("the committed corpus is not what make_corpus.py writes: run it and commit the result")
        print("make_corpus --check: %d torrents and verdicts.tsv are current" % (len(files) - 1))
        return
    os.makedirs(os.path.join(HERE, "torrents"), exist_ok=True)
    for rel, data in files.items():
        with open(os.path.join(HERE, rel), "wb") as f:
            f.write(data)
    print("wrote %d torrents and verdicts.tsv under %s" % (len(files) - 1, HERE))


if __name__ == "__main__":
    main()
