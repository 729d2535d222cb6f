package wakefd

var kinds = map[string]func() (descriptor, error){"tcp pair": open}
