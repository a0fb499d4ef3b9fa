"""Where the built binaries and images live, and which variable moves them.

VIDEOJOB_CACHE is the renderer's scene-cache setting (file://, s3:// or off); the
developer tools must not read it, or relocating one silently moves the other.
"""

from pathlib import Path

from videojob_devenv import tools


def test_videojob_tools_cache_moves_the_build_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOJOB_TOOLS_CACHE", str(tmp_path))
    assert tools.cache_root() == tmp_path
    assert tools.tool_dir(tools.TOOLS["etcd"]) == tmp_path / "bin" / f"etcd-{tools.ETCD_VERSION}"


def test_the_renderers_scene_cache_setting_does_not_move_it(tmp_path, monkeypatch):
    monkeypatch.delenv("VIDEOJOB_TOOLS_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("VIDEOJOB_CACHE", "s3://videos/cache")
    assert tools.cache_root() == Path(tmp_path) / "videojob"
