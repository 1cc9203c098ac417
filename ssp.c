/*
 * ssp.c
 */
#include "mosh.h"
