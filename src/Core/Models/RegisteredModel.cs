namespace DbFirst.Models;

/// <summary>A row of <c>gallery.clip_models</c>: a model the registry knows, in state active, staged or retired.</summary>
internal sealed record RegisteredModel(int Id, string Name, int Dimension, string? Source, string? Layout, string State);
