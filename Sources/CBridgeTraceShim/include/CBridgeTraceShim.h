#pragma once
#include "bt_shim.h"
#include "bt_objects.h"
#include "bt_netlink.h"
#include "bt_netlink_bridge.h"
#include "bt_bench.h"
#include "bt_xsk.h"
#include "bt_sw_trace.h"
