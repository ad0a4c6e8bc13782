//! Quote-aware parsing of `x-forwarded-client-cert` (XFCC).
