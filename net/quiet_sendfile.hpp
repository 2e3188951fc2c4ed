// sendfile(2) without SIGPIPE. send and sendmsg take MSG_NOSIGNAL; sendfile
// takes no flags, so a write to a socket whose peer has gone raises SIGPIPE,
// and a process that has not ignored it dies (exit 141) in the middle of a
// download, because one of the peers it uploads to hung up.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace actorrent::net {

/// sendfile(out, in, offset, count) with SIGPIPE blocked in the calling thread
/// for the call: a socket whose peer has gone gives -1 with errno EPIPE, and
/// the SIGPIPE it raised is taken off this thread's pending signals (unless
/// one was pending before the call). The thread's signal mask is restored;
/// errno is that of sendfile.
ssize_t quiet_sendfile(int out, int in, off_t* offset, std::size_t count);

} // namespace actorrent::net
