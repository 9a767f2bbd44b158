namespace Gatehouse.Entities;

/// <summary>Why an entity is validated: inserts apply defaults to absent fields, updates merge first.</summary>
public enum ValidationContext { Insert, Upsert, Update }
