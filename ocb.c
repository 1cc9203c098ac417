/*
 * ocb.c
 */
#include "mosh.h"
