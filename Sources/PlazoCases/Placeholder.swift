// PlazoCases
