// Package notifykit is the shared core of the notifykit SDK: one Event
// interface that every channel's notifications implement, the Handler that
// consumes them, and middlewares that work the same for all channels.
package notifykit
