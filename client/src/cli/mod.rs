//! The headless command line. (Being built: the `cli` branch replaces this placeholder.)
