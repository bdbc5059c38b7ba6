"""A small seccomp-BPF filter for the sandbox: no new processes, less kernel attack surface.

Why: ``RLIMIT_NPROC`` is what bounds a fork bomb, but the kernel never applies it to
processes whose real uid is the host's root, and when the server runs as root the
sandbox's uid maps to host root (bubblewrap maps the caller's uid). This filter bounds
process creation whatever the uid: ``fork``, ``vfork`` and a ``clone`` without
``CLONE_THREAD`` fail with EPERM (threads stay allowed; their number is bounded by
the address-space limit), ``clone3`` fails with ENOSYS so glibc falls back to
``clone``. A few syscalls a script never needs and that are common kernel
exploit paths (``ptrace``, ``bpf``, ``perf_event_open``, ``userfaultfd``, the
keyring, ``io_uring``) fail with EPERM. A syscall from another ABI (32-bit, x32)
kills the process.

Only x86_64 and aarch64 are known; elsewhere :func:`filter_program` answers None and
the sandbox relies on its other limits.
"""

from __future__ import annotations

import errno
import os
import platform
import struct

# Classic BPF opcodes (linux/filter.h, linux/bpf_common.h) and seccomp return values (linux/seccomp.h).
_LD_W_ABS = 0x20
_JMP_JEQ_K = 0x15
_JMP_JGE_K = 0x35
_JMP_JSET_K = 0x45
_RET_K = 0x06
_RET_KILL_PROCESS = 0x80000000
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6] (little-endian here).
_OFFSET_NR = 0
_OFFSET_ARCH = 4
_OFFSET_ARG0_LOW = 16

_CLONE_THREAD = 0x00010000
_X32_SYSCALL_BIT = 0x40000000


class _Arch:
    def __init__(self, audit_arch: int, clone: int, clone3: int, denied: dict[str, int], x32: bool) -> None:
        self.audit_arch = audit_arch
        self.clone = clone
        self.clone3 = clone3
        self.denied = denied
        self.x32 = x32


_ARCHES: dict[str, _Arch] = {
    "x86_64": _Arch(
        audit_arch=0xC000003E,
        clone=56,
        clone3=435,
        denied={
            "fork": 57,
            "vfork": 58,
            "ptrace": 101,
            "add_key": 248,
            "request_key": 249,
            "keyctl": 250,
            "perf_event_open": 298,
            "bpf": 321,
            "userfaultfd": 323,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
        },
        x32=True,
    ),
    "aarch64": _Arch(
        audit_arch=0xC00000B7,
        clone=220,
        clone3=435,
        denied={
            "ptrace": 117,
            "add_key": 217,
            "request_key": 218,
            "keyctl": 219,
            "perf_event_open": 241,
            "bpf": 280,
            "userfaultfd": 282,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
        },
        x32=False,
    ),
}


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def filter_program(machine: str | None = None) -> bytes | None:
    """The filter as ``struct sock_filter[]`` bytes (what ``bwrap --seccomp FD`` reads), or None if unknown arch."""
    arch = _ARCHES.get(machine or platform.machine())
    if arch is None:
        return None
    eperm = _RET_ERRNO | errno.EPERM
    ops = [
        _op(_LD_W_ABS, _OFFSET_ARCH),
        _op(_JMP_JEQ_K, arch.audit_arch, jt=1),
        _op(_RET_K, _RET_KILL_PROCESS),
        _op(_LD_W_ABS, _OFFSET_NR),
    ]
    if arch.x32:
        ops += [_op(_JMP_JGE_K, _X32_SYSCALL_BIT, jf=1), _op(_RET_K, _RET_KILL_PROCESS)]
    for number in arch.denied.values():
        ops += [_op(_JMP_JEQ_K, number, jf=1), _op(_RET_K, eperm)]
    ops += [
        _op(_JMP_JEQ_K, arch.clone3, jf=1),
        _op(_RET_K, _RET_ERRNO | errno.ENOSYS),
        _op(_JMP_JEQ_K, arch.clone, jf=4),
        _op(_LD_W_ABS, _OFFSET_ARG0_LOW),
        _op(_JMP_JSET_K, _CLONE_THREAD, jt=1),
        _op(_RET_K, eperm),  # a new process
        _op(_RET_K, _RET_ALLOW),  # a thread
        _op(_RET_K, _RET_ALLOW),
    ]
    return b"".join(ops)


def program_fd() -> int | None:
    """A pipe's read end holding :func:`filter_program` (for ``bwrap --seccomp FD``), or None; the caller closes it."""
    program = filter_program()
    if program is None:
        return None
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, program)  # a few hundred bytes: far below a pipe's buffer
    finally:
        os.close(write_end)
    return read_end
