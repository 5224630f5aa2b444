package scanner

import (
	"io"
	"os"
	"syscall"
)

// widenPipe grows the pipe from a cat-file process to 1 MiB, so that blob
// content crosses it in a few large reads instead of many 64 KiB ones. It
// is only an optimisation: failure is ignored.
func widenPipe(rc io.ReadCloser) {
	f, ok := rc.(*os.File)
	if !ok {
		return
	}
	const fSetPipeSize = 1031 // F_SETPIPE_SZ
	if c, err := f.SyscallConn(); err == nil {
		_ = c.Control(func(fd uintptr) {
			_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSize, 1<<20)
		})
	}
}
