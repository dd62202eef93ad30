// (being written)
#include "check.h"
