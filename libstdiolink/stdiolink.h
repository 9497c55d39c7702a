#pragma once

/* the one header applications include */

#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-util.h"
