#include "messages/type_ids.hpp"
