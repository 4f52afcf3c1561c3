//! TODO(owner): module clock.
