"""What every report figure shares: matplotlib off-screen, atomic saving, one colour per mixture,
legend and empty-panel conventions."""

from __future__ import annotations

from pathlib import Path

from polyinstruct.io import atomic_path


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path, title: str) -> None:
    """Title, lay out, write atomically and close a figure (legends outside the axes are kept in)."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.suptitle(title, y=1.0, va="bottom")  # above the panels; bbox_inches="tight" keeps it in the image
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=120, bbox_inches="tight")
    plt.close(fig)


BASE_COLOUR = "black"


def mixture_colours(mixtures) -> dict[str, str]:
    """One colour per mixture, the same in every panel and figure of an experiment (base runs: black)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    names = sorted({str(m) for m in mixtures} - {"none"})
    if len(names) <= 10:
        cmap, points = colormaps["tab10"], [i / 10 + 0.05 for i in range(len(names))]
    elif len(names) <= 20:
        cmap, points = colormaps["tab20"], [i / 20 + 0.025 for i in range(len(names))]
    else:
        cmap, points = colormaps["turbo"], [(i + 0.5) / len(names) for i in range(len(names))]
    return {"none": BASE_COLOUR, **{name: to_hex(cmap(x)) for name, x in zip(names, points)}}


def series_label(
    method: str, dataset: str, mixture: str, lr: str, *, show_dataset: bool = False, show_lr: bool = False
) -> str:
    """Legend entry of a training configuration: the mixture, with method (and dataset, lr when they vary)."""
    if method == "base":
        return "base model"
    extra = [method] + ([dataset] if show_dataset else []) + ([f"lr={lr}"] if show_lr else [])
    return f"{mixture} ({', '.join(extra)})"


def no_data(ax, message: str) -> None:
    """An empty panel that says why it is empty."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=8, color="dimgrey", wrap=True, transform=ax.transAxes)


def legend_outside(fig, axes, fontsize: int = 7) -> None:
    """One legend for the whole figure, right of the panels, with each label once."""
    entries: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    if entries:
        fig.legend(
            list(entries.values()),
            list(entries),
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
            fontsize=fontsize,
            frameon=False,
            ncol=1 if len(entries) <= 30 else 2,
        )
