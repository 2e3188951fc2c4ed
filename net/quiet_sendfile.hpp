// sendfile(2) without SIGPIPE. send and sendmsg take MSG_NOSIGNAL; sendfile
// takes no flags, so a write to a socket whose peer has gone raises SIGPIPE,
// and a process that has not ignored it dies (exit 141) in the middle of a
// download, because one of the peers it uploads to hung up.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace actorrent::net {

/// Ignores SIGPIPE in the whole process, as a network program should: a write
/// to a socket whose peer has gone then fails with EPIPE. Called by the
/// command's main(); after it, quiet_sendfile is a plain sendfile.
void ignore_sigpipe();

/// sendfile(out, in, offset, count) that never raises SIGPIPE: a socket whose
/// peer has gone gives -1 with errno EPIPE. Unless ignore_sigpipe() was
/// called, SIGPIPE is blocked in the calling thread for the call (three
/// syscalls more, ~0.45 us) and the one it raised is taken off this thread's
/// pending signals (one pending before the call is left); the thread's signal
/// mask is restored. errno is that of sendfile.
ssize_t quiet_sendfile(int out, int in, off_t* offset, std::size_t count);

} // namespace actorrent::net
