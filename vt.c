/*
 * vt.c
 */
#include "mosh.h"
