// Compiles the message headers once on their own, so a broken header shows up
// here rather than in every actor.
#include "messages/interfaces.hpp"
