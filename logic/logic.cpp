// logic/ holds the plain, CAF-free algorithms of the engine (piece picker,
// choker, rate estimation); actors in actors/ wrap them. This translation unit
// keeps the library non-empty while it grows.
namespace actorrent::logic {
int library_anchor = 0;
}
