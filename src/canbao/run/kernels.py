"""Kernels for the run's notebooks: IPC sockets in a private folder, output to the run log.

Why: with the default TCP transport jupyter_client picks free ports, releases them,
and hands them to the kernel; a kernel started in parallel can take one first and
the notebook dies before its first cell (``ZMQError: Address already in use``,
papermill issue #511). Unix sockets in a folder of their own have no ports to race
for. The kernel's own stdout/stderr (IPKernelApp lines, library warnings printed
outside a cell) go to the period's ``run.log`` instead of the console.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import CaselessStrEnum, Unicode

from canbao.run.log import LOG_ENV

# A unix socket path must stay under ~107 bytes: keep the private folder short.
_MAX_SOCKET_DIR = 60


def _private_dir() -> str:
    """A fresh 0700 folder for one kernel's connection file and sockets."""
    base = tempfile.gettempdir()
    if len(base) > _MAX_SOCKET_DIR:
        base = "/tmp"
    return tempfile.mkdtemp(prefix="canbao-k-", dir=base)


class PrivateIPCKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` on IPC transport, one private folder per kernel start."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)
    log_file = Unicode("", config=True, help="append the kernel's stdout/stderr here")

    _socket_dir: str | None = None
    _log_handle: IO[str] | None = None

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        self._remove_socket_dir()
        self._socket_dir = _private_dir()
        self.connection_file = os.path.join(self._socket_dir, "kernel.json")
        self.ip = os.path.join(self._socket_dir, "k")
        if self.log_file:
            Path(self.log_file).parent.mkdir(parents=True, exist_ok=True)
            self._log_handle = open(self.log_file, "a", encoding="utf-8")  # noqa: SIM115
            kw.setdefault("stdout", self._log_handle)
            kw.setdefault("stderr", self._log_handle)
            kw["env"] = {**(kw.get("env") or os.environ), LOG_ENV: str(self.log_file)}
        return await super()._async_pre_start_kernel(**kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._remove_socket_dir()
            if self._log_handle is not None:
                self._log_handle.close()
                self._log_handle = None

    cleanup_resources = _async_cleanup_resources  # type: ignore[assignment]

    def _remove_socket_dir(self) -> None:
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None


def kernel_manager_class(log_file: Path | None = None) -> type[PrivateIPCKernelManager]:
    """The kernel manager class to hand to papermill, writing kernel output to ``log_file``."""
    if log_file is None:
        return PrivateIPCKernelManager
    return type(
        "LoggedIPCKernelManager",
        (PrivateIPCKernelManager,),
        {"log_file": Unicode(str(log_file), config=True)},
    )
