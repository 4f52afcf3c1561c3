//! TODO(owner): module context.
