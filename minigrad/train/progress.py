"""Progress bars: tqdm when asked for (or available), a plain line per epoch otherwise, or silence."""


def _tqdm():
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError("progress bars need tqdm: pip install minigrad[progress]") from None
    return tqdm


def resolve(progress):
    """``True`` (tqdm, required), ``False`` (quiet) or ``"auto"`` (tqdm if installed, else lines)."""
    if progress == "auto":
        try:
            return _tqdm()
        except ImportError:
            return "lines"
    if progress is True:
        return _tqdm()
    if progress is False or progress is None:
        return None
    raise ValueError(f"progress must be True, False or 'auto', got {progress!r}")


def bar(iterable, total, desc, mode, leave=False):
    """Wrap ``iterable`` in a tqdm bar when ``mode`` is tqdm; otherwise return it unchanged."""
    if mode is None or mode == "lines":
        return iterable
    return mode(iterable, total=total, desc=desc, leave=leave, dynamic_ncols=True)


def say(text, mode):
    """Print a line (through tqdm.write while bars are active); nothing in quiet mode."""
    if mode is None:
        return
    if mode == "lines":
        print(text, flush=True)
    else:
        mode.write(text)
